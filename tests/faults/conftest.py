"""The long chaos and soak runs (``make faults``): real worker processes killed mid-task, Amazon
throttling and failing, many processes on one rate budget. Each module is marked ``faults``, which
``make test`` leaves out."""
