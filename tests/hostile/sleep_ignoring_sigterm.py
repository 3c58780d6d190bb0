"""Ignores SIGTERM and sleeps, so only SIGKILL can stop it."""

import signal
import time


def soft_threshold(w, threshold):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(100)
