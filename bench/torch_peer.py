"""PyTorch peer benchmark for tiny-compression-kit's `npm run bench`.

Measures CPU float32 throughput (samples/second) of the same small workloads
the kit runs on TensorFlow.js, so the two can be compared:

  lenet5-train  LeNet5 (32x32x1 -> 10), batch 50: one step = zero_grad,
                forward, softmax cross-entropy, backward, Adam(lr=1e-3) step
  lenet5-infer  the same network in eval mode under torch.no_grad(),
                batch 1000 forward passes
  mlp-train     MLP 21-32-16-10 (ReLU), batch 32, training steps as above
  vgg7s-train   VGG7 at quarter width (32x32x3; 32-32-P-64-64-P-128-128-P-fc256-fc10,
                3x3 'same' convs without bias, BatchNorm + ReLU after every conv and
                after fc256), batch 50, training steps as above
  nas-candidate one seed-000 mlp-cardio candidate: the 15 trainings (5 folds x 3
                repeats) of MLP 21-32-16-10 on data of the Cardiotocography sizes
                (2126 samples, 21 features, 10 classes), one after another as the
                seed-000 reference does: per training a fresh model, Adam(lr=1e-3,
                weight_decay=1e-5), up to 30 epochs of shuffled batches of 32,
                validation loss on a tenth of the training folds after every epoch,
                early stopping with patience 5, then held-out accuracy. Figure =
                samples trained (train part x epochs run) per wall second; each
                repeat is one whole candidate, at most 2 repeats. A repeat that
                passes --candidate-max-seconds stops after its current training
                and reports the rate of the trainings done (details.trainingsDone):
                on a loaded 2-core machine 2 threads can be 20x slower than 1.

Inputs and labels are random (seeded); nas-candidate's labels come from a
random linear teacher so that training makes progress and early stopping
behaves as on real data. Each workload is warmed up (3 steps, and at least
`--warmup-seconds`), then measured `--repeats` times; each measurement runs
whole steps until at least `--min-seconds` have elapsed, and the reported
figure is the median. Only the steps are timed: interpreter start-up, the
torch import, model construction and warm-up are not.

`tck bench` measures in rounds: per round it runs this script once per
thread count with `--repeats 1 --round k`, so that the kit and PyTorch are
measured alternately under the same load; `--round k` makes nas-candidate
train the candidate (cross-validation splits) of repeat k, as the kit's
round k does.

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
    p.add_argument("--warmup-seconds", type=float, default=0.0,
                   help="warm each workload up for at least this long, after its 3 warm-up steps (default 0)")
    p.add_argument("--round", type=int, default=0,
                   help="index of the first nas-candidate repeat: its CV splits (default 0; tck bench's round)")
    p.add_argument("--candidate-max-seconds", type=float, default=20.0,
                   help="nas-candidate: stop a repeat after the training that passes this (default 20)")
    args = p.parse_args()
    if args.threads < 1 or args.repeats < 1 or args.min_seconds <= 0:
        p.error("--threads and --repeats must be >= 1, --min-seconds > 0")
    if args.warmup_seconds < 0 or args.round < 0:
        p.error("--warmup-seconds and --round must be >= 0")
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

    def vgg7(width):
        # seed 000 §2.4 / src/models/zoo.ts vgg7(): BN after every conv and the hidden FC layer.
        c = [max(1, round(f * width)) for f in (128, 256, 512, 1024)]

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        return nn.Sequential(
            *block(3, c[0]), *block(c[0], c[0]), nn.MaxPool2d(2),      # 32 -> 16
            *block(c[0], c[1]), *block(c[1], c[1]), nn.MaxPool2d(2),   # 16 -> 8
            *block(c[1], c[2]), *block(c[2], c[2]), nn.MaxPool2d(2),   # 8 -> 4
            nn.Flatten(),
            nn.Linear(c[2] * 16, c[3], bias=False), nn.BatchNorm1d(c[3]), nn.ReLU(),
            nn.Linear(c[3], 10),
        )

    def infer_step(model, in_shape, batch):
        x = torch.randn(batch, *in_shape)
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
        return step

    # nas-candidate: seed-000 protocol (5-fold CV x 3 repeats, 30 epochs, patience 5, batch 32;
    # the kit's src/bench/workloads.ts nasCandidate and src/experiments/cv.ts SEED000_PROTOCOL).
    N, FEATURES, CLASSES, K, CV_REPEATS = 2126, 21, 10, 5, 3
    EPOCHS, PATIENCE, BATCH, VAL_FRACTION = 30, 5, 32, 0.1
    gen = torch.Generator().manual_seed(args.seed)
    cx = torch.randn(N, FEATURES, generator=gen)
    cy = (cx @ torch.randn(FEATURES, CLASSES, generator=gen)
          + 0.5 * torch.randn(N, CLASSES, generator=gen)).argmax(1)

    def train_fold(repeat, fold):
        """One fold job; returns (train samples, epochs run)."""
        order = torch.randperm(N, generator=torch.Generator().manual_seed(1000 + repeat))
        held = order[fold::K]
        rest = torch.cat([order[f::K] for f in range(K) if f != fold])
        n_val = round(VAL_FRACTION * len(rest))
        val, tr = rest[:n_val], rest[n_val:]
        xt, yt, xv, yv = cx[tr], cy[tr], cx[val], cy[val]
        model = mlp()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
        loss_fn = nn.CrossEntropyLoss()
        best, since, epochs = float("inf"), 0, 0
        for _ in range(EPOCHS):
            model.train()
            perm = torch.randperm(len(tr))
            for i in range(0, len(tr), BATCH):
                b = perm[i:i + BATCH]
                opt.zero_grad()
                loss_fn(model(xt[b]), yt[b]).backward()
                opt.step()
            epochs += 1
            model.eval()
            with torch.no_grad():
                v = loss_fn(model(xv), yv).item()
            if v < best:
                best, since = v, 0
            else:
                since += 1
                if since >= PATIENCE:
                    break
        with torch.no_grad():
            (model(cx[held]).argmax(1) == cy[held]).float().mean().item()
        return len(tr), epochs

    def nas_candidate(repeats):
        train_fold(0, 0)  # warm-up
        out, all_epochs, done_min = [], [], K * CV_REPEATS
        for r in range(repeats):
            samples, done, start = 0, 0, time.perf_counter()
            for job in range(K * CV_REPEATS):
                n, e = train_fold((args.round + r) * CV_REPEATS + job // K, job % K)
                samples += n * e
                all_epochs.append(e)
                done += 1
                if time.perf_counter() - start > args.candidate_max_seconds:
                    break
            elapsed = time.perf_counter() - start
            done_min = min(done_min, done)
            out.append(samples / elapsed)
            log(f"nas-candidate [{r + 1}/{repeats}] {done} of {K * CV_REPEATS} trainings in {elapsed:.2f}s: "
                f"{out[-1]:.1f} samples/s")
        return out, {"trainings": K * CV_REPEATS, "trainingsDone": done_min,
                     "meanEpochs": statistics.mean(all_epochs)}

    # name -> (batch, factory returning a zero-argument step function)
    workloads = {
        "lenet5-train": (50, lambda: train_step(lenet5(), (1, 32, 32), 50)),
        "lenet5-infer": (1000, lambda: infer_step(lenet5(), (1, 32, 32), 1000)),
        "mlp-train": (32, lambda: train_step(mlp(), (21,), 32)),
        "vgg7s-train": (50, lambda: train_step(vgg7(0.25), (3, 32, 32), 50)),
        "nas-candidate": (BATCH, None),  # whole trainings, measured by nas_candidate()
    }
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(workloads)
    unknown = [n for n in names if n not in workloads]
    if unknown:
        log(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(workloads)}")
        sys.exit(2)

    results = []
    for name in names:
        batch, make_step = workloads[name]
        if make_step is None:
            repeats, details = nas_candidate(min(args.repeats, 2))
            results.append({"name": name, "samplesPerSec": statistics.median(repeats),
                            "batch": batch, "repeats": repeats, "details": details})
            continue
        step = make_step()
        for _ in range(WARMUP_STEPS):
            step()
        warm_start = time.perf_counter()
        while time.perf_counter() - warm_start < args.warmup_seconds:
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
