"""Amazon's rules the sandbox enforces, apart from the HTTP handlers that apply them.

``window`` (the two-minute "before" rule), ``pagination`` (stable pages, tokens carrying the
query), ``query`` (how parameters are read), ``included`` (``includedData``), ``shipments``
(what one package confirmation must satisfy, for the API and the fulfilment feed alike),
``refunds`` (what one refund must satisfy, for the adjustment feed and Seller Central alike).
"""
