"""Writes well-formed frames claiming success before the function has run at all."""

import json
import os


def frame(header):
    text = json.dumps({**header, "payload": 0}).encode()
    return len(text).to_bytes(4, "big") + text


os.write(3, frame({"t": "loaded"}))
os.write(3, frame({"t": "end", "status": "ok", "reason": "", "detail": "", "defined": []}))


def soft_threshold(w, threshold):
    return w
