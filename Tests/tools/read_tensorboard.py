"""Reads TensorBoard event files with TensorBoard's own reader and prints their scalars as JSON.

Usage: python read_tensorboard.py DIR  ->  {"tag": [[step, value], ...], ...}
Needs the `tensorboard` package (bash .ci/setup installs it into a virtualenv, see GRADUS_TENSORBOARD_PYTHON).
Used by the tests of `gradus train/compare --tensorboard` to show that the files Gradus writes are
what TensorBoard reads (record framing, CRCs, Event and Summary encodings).
"""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator

acc = event_accumulator.EventAccumulator(sys.argv[1], size_guidance={event_accumulator.SCALARS: 0})
acc.Reload()
out = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
print(json.dumps(out, sort_keys=True))
