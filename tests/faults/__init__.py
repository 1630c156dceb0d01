"""The long chaos and soak runs (``make faults``): real workers SIGKILLed, Amazon's faults by the
dozen, hundreds of orders and fulfilments. Each module marks itself ``integration`` and
``faults``; ``make test`` leaves them out."""
