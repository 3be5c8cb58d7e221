# class: resource
# attack: spin forever, past the run's timeout
# expect: crash
# limit: timeout
while True:
    pass
