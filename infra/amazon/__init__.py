"""Amazon's side: SP-API and Login with Amazon, cut by concept.

``http`` is the one request path (token, rate budget, errors, logs, retries) over ``lwa``,
``ratelimit`` and ``models`` (Amazon's operations); ``api`` has one module per API family,
``schemas`` their JSON as pydantic models, ``translate`` turns that JSON into the domain's values
and ``gateways`` implement the domain's ports with them. ``client`` is the face callers use.
``sandbox`` plays Amazon for tests and demos; production code never imports it.
"""
