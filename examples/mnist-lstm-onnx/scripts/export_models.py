"""Exports the two models of the MNIST ONNX example from PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 examples/mnist-lstm-onnx/scripts/export_models.py

models/mnist_lstm.onnx  the article's model: each 28x28 digit read as 28 time steps of 28 pixels,
                        LSTM(64) -> Linear(10) on the last step (PyTorch's default initialization, seed 0)
models/mnist_cnn.onnx   a small CNN: Conv(1->8, 3x3, pad 1) ReLU MaxPool 2, Conv(8->16, 3x3, pad 1) ReLU
                        MaxPool 2, Linear(784->10)
Both export logits (the loss applies its own log-softmax, as nn.CrossEntropyLoss), in eval mode, opset 14,
with a dynamic batch axis. Training happens in Node (src/); nothing here runs at training time.
"""
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "models")


class RowLstm(nn.Module):
    def __init__(self, units=64):
        super().__init__()
        self.lstm = nn.LSTM(28, units, batch_first=True)
        self.fc = nn.Linear(units, 10)

    def forward(self, x):  # x: [batch, 28, 28]
        y, _ = self.lstm(x)
        return self.fc(y[:, -1])


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):  # x: [batch, 1, 28, 28]
        x = nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.c2(x)), 2)
        return self.fc(x.flatten(1))


def export(module, example, name):
    module.eval()
    torch.onnx.export(module, example, os.path.join(OUT, name), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=14)
    print("wrote", name)


torch.manual_seed(0)
export(RowLstm(), torch.zeros(2, 28, 28), "mnist_lstm.onnx")
export(SmallCnn(), torch.zeros(2, 1, 28, 28), "mnist_cnn.onnx")
