"""Executes one notebook headless, cell by cell, and stops at the first cell that fails.

    /usr/bin/python3 scripts/execute_notebook.py <notebook.ipynb> <executed-copy.ipynb>

Called by `npm run notebooks` (scripts/notebooks.ts), which sets JUPYTER_PATH (the project's tslab kernel spec),
PATH (node_modules/.bin, where the `tslab` command is) and TCK_PROFILE. Uses nbclient, the engine of
`jupyter nbconvert --execute` (Debian's python3-nbclient), without --allow-errors: a failing cell ends the run.
nbconvert itself would print an empty "<Error>:" for tslab, which reports type and run-time errors on the
cell's stderr stream; this script prints that text, and writes the executed copy (up to the failing cell) in
every case. Exit status: 0 passed, 1 a cell failed, 2 the kernel could not be run.
"""
import json
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
KERNEL_FRAME = re.compile(r"^\s+at .*(node:vm|/node_modules/tslab/|sigintHandlersWrap|ZmqServer)")
BOLD, RED, DIM, RESET = ("\x1b[1m", "\x1b[31m", "\x1b[2m", "\x1b[0m") if sys.stdout.isatty() else ("", "", "", "")


def text_outputs(cell, names=("stdout", "stderr")):
    """The text a cell printed (streams, text/plain results, errors), ANSI codes removed."""
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") in names:
            parts.append(o.get("text", ""))
        elif o.get("output_type") in ("execute_result", "display_data") and "stdout" in names:
            data = o.get("data", {})
            if "text/plain" in data and not any(k.startswith("image/") or k == "text/html" for k in data):
                parts.append(data["text/plain"] + "\n")
            elif any(k.startswith("image/") for k in data):
                parts.append("[figure: %s]\n" % ", ".join(k for k in data if k.startswith("image/")))
            elif "text/html" in data:
                html = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
                parts.append("[figure (HTML image)]\n" if html.lstrip().startswith("<img") else "[table or HTML output]\n")
        elif o.get("output_type") == "error":
            tb = "\n".join(o.get("traceback") or [])
            parts.append(tb or "%s: %s" % (o.get("ename", ""), o.get("evalue", "")))
    return ANSI.sub("", "".join(parts))


def indent(text, prefix="    ", limit=60):
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if len(lines) > limit:
        lines = lines[: limit // 2] + ["... (%d lines left out)" % (len(lines) - limit)] + lines[-limit // 2 :]
    return "\n".join(prefix + line for line in lines)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    nb = nbformat.read(src, as_version=4)
    kernel = (nb.metadata.get("kernelspec") or {}).get("name") or "tslab"
    timeout = int(os.environ.get("TCK_NOTEBOOK_TIMEOUT", "3600"))
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    number = {index: n for n, index in enumerate(code_cells, 1)}
    started = {}

    def on_start(cell, cell_index, **_):
        if cell.cell_type != "code":
            return
        first = next((line for line in cell.source.split("\n") if line.strip()), "")[:70]
        started[cell_index] = time.time()
        print("%s  [%d/%d] %s%s" % (DIM, number.get(cell_index, 0), len(code_cells), first, RESET), flush=True)

    def on_executed(cell, cell_index, execute_reply, **_):
        if cell.cell_type == "code" and execute_reply and execute_reply.get("content", {}).get("status") == "ok":
            out = text_outputs(cell)
            if out.strip():
                print(indent(out), flush=True)
            print("%s        %.1f s%s" % (DIM, time.time() - started.get(cell_index, time.time()), RESET), flush=True)

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}},
        on_cell_start=on_start,
        on_cell_executed=on_executed,
    )
    status, failure = 0, None
    t_start = time.time()
    try:
        client.execute()
    except CellExecutionError as e:
        failed = [i for i in code_cells if i in started][-1:]
        status, failure = 1, (number.get(failed[0]) if failed else None, failed[0] if failed else None, e)
    except (CellTimeoutError, DeadKernelError) as e:
        status, failure = 1, (None, None, e)
    except Exception as e:  # the kernel did not start (no tslab on PATH, no kernel spec)
        print("%serror: could not run kernel %r: %s: %s%s" % (RED, kernel, type(e).__name__, e, RESET), file=sys.stderr)
        status = 2
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    tmp = dst + ".tmp"
    nbformat.write(nb, tmp)
    os.replace(tmp, dst)
    result = {"status": "passed" if status == 0 else "failed", "seconds": round(time.time() - t_start, 2)}
    if status == 2:
        result["error"] = "the kernel could not be started"
    if failure:
        n, index, e = failure
        if index is not None:
            cell = nb.cells[index]
            err = text_outputs(cell, names=("stderr",)).strip() or ANSI.sub("", str(e)).strip()
            result.update(cell=n, error=err)
            print("\n%s%sCell %d of %s failed:%s" % (BOLD, RED, n, src, RESET), file=sys.stderr)
            print(indent(cell.source, "  | ", limit=40), file=sys.stderr)
            # the kernel's own stack frames (tslab, node:vm) say nothing about the notebook
            shown = "\n".join(l for l in err.split("\n") if not KERNEL_FRAME.search(l))
            print("%s%s%s" % (RED, indent(shown, "  ", limit=80), RESET), file=sys.stderr)
        else:
            result.update(error=ANSI.sub("", str(e)).strip())
            print("\n%s%s%s failed: %s%s" % (BOLD, RED, src, result["error"], RESET), file=sys.stderr)
    print("@@result " + json.dumps(result), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
