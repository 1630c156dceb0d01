"""The project's own Amazon: a local HTTP server that plays SP-API and Login with Amazon.

Production code never imports it; it knows Amazon's shapes (``infra.amazon.models``) and
nothing of ours. Its parts, each depending only on those above it::

    errors      the refusals, one small tree
    state/      what the sandbox remembers: records, store, auth, buckets, faults, calls,
                what items were charged, financial events and groups, settlement reports,
                what a restart keeps
    rules/      Amazon's rules: the window, pagination, query parameters, includedData,
                what one package confirmation and one refund must satisfy
    generate    made-up but realistic orders        render    records as Amazon's JSON
    render_finances   financial events and groups as Finances v0's JSON
    feeds/      the three order feeds (one module each), the processing report, document URLs
    reports/    settlement reports made when a financial event group closes, their flat file
    operations/ one module per API family; ``SERVED_OPERATIONS`` is the registry
    control/    the control API under ``/_sandbox/``, one router per area
    app         the HTTP face: auth, faults, rate limits, then the operation
    keeper      the state kept in a file across restarts (what is kept: state/saved)
    server      ``serve`` (a process of its own) and ``running_sandbox`` (inside tests)
"""
