"""PyTorch peer benchmark for tiny-compression-kit's `npm run bench`.

Measures CPU float32 throughput (samples/second) of the same small workloads
the kit runs on TensorFlow.js, so the two can be compared:

  lenet5-train  LeNet5 (32x32x1 -> 10), batch 50: one step = zero_grad,
                forward, softmax cross-entropy, backward, Adam(lr=1e-3) step
  lenet5-infer  the same network in eval mode under torch.no_grad(),
                batch 1000 forward passes
  mlp-train     MLP 21-32-16-10 (ReLU), batch 32, training steps as above

Inputs and labels are random (seeded). Each workload is warmed up, then
measured `--repeats` times; each measurement runs whole steps until at least
`--min-seconds` have elapsed, and the reported figure is the median.

Output: exactly one JSON line on stdout, e.g.
  {"threads": 1, "torch": "1.13.0a0", "results": [{"name": "lenet5-train",
   "samplesPerSec": 1234.5, "batch": 50, "repeats": [...]}, ...]}
Progress goes to stderr. If torch cannot be imported, prints
{"error": "torch not importable: ..."} and exits with code 3.

Run with the interpreter that has torch, e.g. Debian's python3-torch:
  /usr/bin/python3 bench/torch_peer.py --threads 1
"""

import argparse
import json
import statistics
import sys
import time

WARMUP_STEPS = 3


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
    p.add_argument("--repeats", type=int, default=5, help="measurements per workload (default 5)")
    p.add_argument("--min-seconds", type=float, default=1.0,
                   help="minimum duration of one measurement (default 1.0)")
    p.add_argument("--seed", type=int, default=1, help="torch seed (default 1)")
    p.add_argument("--only", default="", help="comma-separated subset of workload names")
    args = p.parse_args()
    if args.threads < 1 or args.repeats < 1 or args.min_seconds <= 0:
        p.error("--threads and --repeats must be >= 1, --min-seconds > 0")
    return args


def main():
    args = parse_args()
    try:
        import torch
        from torch import nn
    except Exception as e:  # ImportError, or a broken native library
        print(json.dumps({"error": f"torch not importable: {e}"}), flush=True)
        sys.exit(3)

    # Inter-op threads can only be set once, before any parallel work starts.
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError as e:
        log(f"note: could not set interop threads: {e}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    def lenet5():
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),    # 32 -> 28 -> 14
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),   # 14 -> 10 -> 5
            nn.Flatten(),                                      # 16*5*5 = 400
            nn.Linear(400, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        )

    def mlp():
        return nn.Sequential(
            nn.Linear(21, 32), nn.ReLU(),
            nn.Linear(32, 16), nn.ReLU(),
            nn.Linear(16, 10),
        )

    def train_step(model, in_shape, batch):
        x = torch.randn(batch, *in_shape)
        y = torch.randint(0, 10, (batch,))
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()  # softmax cross-entropy on logits

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        return step

    def infer_step(model, in_shape, batch):
        x = torch.randn(batch, *in_shape)
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
        return step

    # name -> (batch, factory returning a zero-argument step function)
    workloads = {
        "lenet5-train": (50, lambda: train_step(lenet5(), (1, 32, 32), 50)),
        "lenet5-infer": (1000, lambda: infer_step(lenet5(), (1, 32, 32), 1000)),
        "mlp-train": (32, lambda: train_step(mlp(), (21,), 32)),
    }
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(workloads)
    unknown = [n for n in names if n not in workloads]
    if unknown:
        log(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(workloads)}")
        sys.exit(2)

    results = []
    for name in names:
        batch, make_step = workloads[name]
        step = make_step()
        for _ in range(WARMUP_STEPS):
            step()
        repeats = []
        for r in range(args.repeats):
            steps, start = 0, time.perf_counter()
            while True:
                step()
                steps += 1
                elapsed = time.perf_counter() - start
                if elapsed >= args.min_seconds:
                    break
            repeats.append(steps * batch / elapsed)
            log(f"{name} [{r + 1}/{args.repeats}] {steps} steps in {elapsed:.2f}s: "
                f"{repeats[-1]:.1f} samples/s")
        results.append({"name": name, "samplesPerSec": statistics.median(repeats),
                        "batch": batch, "repeats": repeats})

    print(json.dumps({"threads": args.threads, "torch": torch.__version__,
                      "results": results}), flush=True)


if __name__ == "__main__":
    main()
