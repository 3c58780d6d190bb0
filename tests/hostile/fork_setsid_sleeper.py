"""Forks a child that starts its own session and sleeps, trying to outlive the run."""

import os
import time


def soft_threshold(w, threshold):
    if os.fork() == 0:
        os.setsid()
        time.sleep(100)
        os._exit(0)
    return w
