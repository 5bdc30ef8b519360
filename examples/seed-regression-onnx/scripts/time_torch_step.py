"""PyTorch's CPU step on the seed MLP (20-25-1, batch 128, MSE, clip_grad_norm_ 1.0, SGD 0.07 momentum 0.8),
for comparison with `node examples/seed-regression-onnx/dist/timeStep.js`. Not needed by any test.

    /usr/bin/python3 examples/seed-regression-onnx/scripts/time_torch_step.py [threads]
"""
import sys
import time

import torch

if len(sys.argv) > 1:
    torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Linear(20, 25), torch.nn.ReLU(), torch.nn.Linear(25, 1))
opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.8)
x = torch.randn(128, 20)
y = torch.randn(128, 1)


def forward():
    with torch.no_grad():
        model(x)


def step():
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


def timed(label, fn, iterations=2000):
    for _ in range(200):
        fn()
    per = iterations // 20
    blocks = []
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(per):
            fn()
        blocks.append((time.perf_counter() - start) * 1e6 / per)
    blocks.sort()
    print(f"{label:<44} {blocks[10]:.1f} µs")
    return blocks[10]


print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
f = timed("forward only (no_grad)", forward)
s = timed("full step (fwd + bwd + clip + SGD)", step)
print(f"step / forward = {s / f:.2f}")
