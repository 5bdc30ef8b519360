"""PyTorch's side of the ONNX training benchmark (benchmarks/src/torchRows.ts runs it; PyTorch 1.13, Debian's
python3-torch): one training step — forward, loss, backward, clip_grad_norm_(1.0), Adam — of the same models the
benchmark trains through OrtTrainer, timed alone and in its parts, with one thread and with the default threads.

    /usr/bin/python3 benchmarks/scripts/torch_steps.py [--quick]     all models, medians, one JSON object
    /usr/bin/python3 benchmarks/scripts/torch_steps.py --serve       one step per request, for pairs

With --serve it reads lines "<model> <threads>" (threads: 1, or 0 for the default) and answers each with one
step's times as a JSON line {"stepMs", "forwardBackwardMs", "updateMs"}: the benchmark alternates these with
OrtTrainer's steps, so that both sides of each pair see the same machine.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

quick = "--quick" in sys.argv


class LeNet(nn.Module):  # the zoo's LeNet (adapters/onnxruntime/test/fixtures/zoo/make_zoo.py)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.c1(x)), 2)
        x = F.avg_pool2d(torch.relu(self.c2(x)), 2)
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class RowLstm(nn.Module):  # the zoo's row LSTM: 28 rows of a digit as time steps
    def __init__(self, hidden=16):
        super().__init__()
        self.rnn = nn.LSTM(28, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1])


def mlp():
    sizes = [256, 1024, 1024, 10]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


MODELS = {
    "mlp": (mlp, lambda b: torch.rand(b, 256) * 2 - 1, lambda b: torch.rand(b, 10), "mse", 128),
    "lenet": (LeNet, lambda b: torch.rand(b, 1, 28, 28) * 2 - 1, lambda b: torch.randint(0, 10, (b,)), "crossEntropy", 32),
    "lstm": (RowLstm, lambda b: torch.rand(b, 28, 28) * 2 - 1, lambda b: torch.randint(0, 10, (b,)), "crossEntropy", 32),
}


def prepare(name):
    make, make_x, make_y, loss_kind, batch = MODELS[name]
    torch.manual_seed(0)
    model = make()
    x, y = make_x(batch), make_y(batch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    loss_fn = F.mse_loss if loss_kind == "mse" else F.cross_entropy

    def forward_backward():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()

    def update():
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def one_step():
        t0 = time.perf_counter()
        forward_backward()
        t1 = time.perf_counter()
        update()
        t2 = time.perf_counter()
        return {"stepMs": (t2 - t0) * 1e3, "forwardBackwardMs": (t1 - t0) * 1e3, "updateMs": (t2 - t1) * 1e3, "batch": batch}

    for _ in range(5):
        one_step()
    return one_step


def time_model(name, threads, reps):
    torch.set_num_threads(threads)
    one_step = prepare(name)
    steps = [one_step() for _ in range(reps)]
    return {k: statistics.median(s[k] for s in steps) if k != "batch" else steps[0][k] for k in steps[0]}


default_threads = torch.get_num_threads()
if "--serve" in sys.argv:
    print(json.dumps({"torch": torch.__version__, "defaultThreads": default_threads}), flush=True)
    prepared = {}
    for line in sys.stdin:
        name, threads = line.split()
        threads = int(threads) or default_threads
        torch.set_num_threads(threads)
        if (name, threads) not in prepared:
            prepared[(name, threads)] = prepare(name)
        print(json.dumps(prepared[(name, threads)]()), flush=True)
    sys.exit(0)

results = {"torch": torch.__version__, "defaultThreads": default_threads, "models": {}}
for name in MODELS:
    results["models"][name] = {
        "oneThread": time_model(name, 1, 5 if quick else 41),
        "defaultThreads": time_model(name, default_threads, 5 if quick else 41),
    }
print(json.dumps(results))
