"""PyTorch's side of the clipping benchmark (benchmarks/src/torchClipRows.ts runs it; PyTorch 1.13, Debian's
python3-torch): torch.nn.utils.clip_grad_norm_ on the same gradients as gradpipe's typed-array rows — `tensors`
tensors of `size` float32 values uniform in [-1, 1) — on one thread, and a copy of the same bytes (Tensor.copy_).

    /usr/bin/python3 benchmarks/scripts/torch_clip.py --serve <tensors> <size>

It reads lines "clip", "noclip" or "copy" and answers each with the milliseconds one call took, as a JSON line
{"ms": …}; before each timed call the gradients are restored from a pristine copy (untimed), as the JS side does.
The benchmark alternates these requests with gradpipe's own calls, so both sides of each pair see the same machine.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
tensors, size = int(sys.argv[2]), int(sys.argv[3])
generator = torch.Generator().manual_seed(2024)
pristine = [torch.rand(size, generator=generator) * 2 - 1 for _ in range(tensors)]
params = [torch.nn.Parameter(torch.empty(size)) for _ in range(tensors)]
for p, g in zip(params, pristine):
    p.grad = g.clone()
scratch = [torch.empty(size) for _ in range(tensors)]
# The global norm is about sqrt(n / 3): 1 always clips, ten times the norm never does.
no_clip = 10 * (tensors * size / 3) ** 0.5


def restore():
    for p, g in zip(params, pristine):
        p.grad.copy_(g)


def timed(run):
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1e3


CALLS = {
    "clip": lambda: torch.nn.utils.clip_grad_norm_(params, 1.0),
    "noclip": lambda: torch.nn.utils.clip_grad_norm_(params, no_clip),
    "copy": lambda: [s.copy_(g) for s, g in zip(scratch, pristine)],
}

print(json.dumps({"torch": torch.__version__}), flush=True)
for line in sys.stdin:
    name = line.strip()
    restore()
    print(json.dumps({"ms": timed(CALLS[name])}), flush=True)
