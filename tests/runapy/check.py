"""NVIDIA's own Run:ai Python client (runapy 1.224.0) against `infertop sim`.

Dev-only check, run by .ci/run in a venv: starts the built simulator on a free loopback port, logs in with
runapy's own constructor (POST /api/v1/token, JWT `exp` decoded by runapy's token refresher), then runs list,
get, metrics and an update, validating every answer with runapy's pydantic models, and checks that the image
survives runapy's update (which sends every untouched spec field as null).

Usage: python check.py PATH/TO/infertop
Prints one line per check and a closing line `runapy: N passed, M failed`; exits non-zero on any failure.
"""

import datetime
import subprocess
import sys
import traceback

from runai import models
from runai.api_client import ApiClient
from runai.configuration import Configuration
from runai.runai_client import RunaiClient

# The demo credentials `infertop sim` prints.
CLIENT_ID = "demo"
CLIENT_SECRET = "demo-secret"

# runapy logs in on /api/v1/token only (served under `v1-only`, the default, and `both`). Its update sends
# untouched spec fields as explicit null; the Run:ai control plane is a Go service where null and absent decode
# alike, which is the `keeps` reading. Inference metrics need a 2.18+ control plane (`served`).
READINGS = ["runai-token=both", "runai-null=keeps", "runai-inference-metrics=served"]

passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        detail = fn()
        passed += 1
        print(f"ok    {name}" + (f": {detail}" if detail else ""), flush=True)
        return True
    except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
        failed += 1
        print(f"FAIL  {name}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(limit=3)
        return False


def start_sim(binary):
    args = [binary, "sim", "--listen", "127.0.0.1:0"]
    for r in READINGS:
        args += ["--ambiguity", r]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"runapy: the simulator did not start (first line: {line!r})")
    return proc, line.split("listening on ", 1)[1]


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: check.py PATH/TO/infertop")
    proc, base = start_sim(sys.argv[1])
    try:
        run(base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"runapy: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


def run(base):
    state = {}

    def login():
        config = Configuration(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, runai_base_url=base)
        api = ApiClient(config)
        state["client"] = RunaiClient(api)
        state["api"] = api
        # runapy decoded the token's `exp` in its refresher; it must lie ahead.
        expiry = api.token_refresher._token_expiry
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        assert expiry > now + 60, f"token exp {expiry} is not ahead of now {now}"
        return f"token lives {int(expiry - now)} s"

    if not check("login with runapy's constructor (POST /api/v1/token, JWT exp)", login):
        return
    client = state["client"]
    wl = client.workloads

    def list_workloads():
        resp = wl.workloads.get_workloads(limit=100)
        page = models.GetWorkloads200Response.from_dict(resp.data)
        inferences = [w for w in page.workloads if w.type.lower() == "inference"]
        assert inferences, "no inference workload listed"
        state["inference"] = inferences[0]
        return f"{len(page.workloads)} workloads, {len(inferences)} inference"

    if not check("list (GET /api/v1/workloads, GetWorkloads200Response)", list_workloads):
        return
    wid = state["inference"].id

    def get_inference():
        resp = wl.inferences.get_inference(workload_id=wid)
        inf = models.Inference1.from_dict(resp.data)
        assert inf.spec is not None and inf.spec.image, "the inference has no image"
        state["image"] = inf.spec.image
        state["spec"] = resp.data["spec"]
        return f"{inf.name} runs {inf.spec.image}"

    if not check("get (GET /api/v1/workloads/inferences/{id}, Inference1)", get_inference):
        return

    def get_workload():
        resp = wl.workloads.get_workload(workload_id=wid)
        w = models.Workload.from_dict(resp.data)
        return f"phase {w.phase}"

    check("get (GET /api/v1/workloads/{id}, Workload)", get_workload)

    def metrics():
        end = datetime.datetime.now(datetime.timezone.utc)
        start = end - datetime.timedelta(minutes=10)
        resp = wl.inferences.get_inference_workload_metrics(
            workload_id=wid,
            metric_type=[models.InferenceWorkloadMetricType.THROUGHPUT, models.InferenceWorkloadMetricType.LATENCY],
            start=start,
            end=end,
            number_of_samples=5,
        )
        m = models.MetricsResponse.from_dict(resp.data)
        types = sorted(x.type for x in m.measurements)
        assert types == ["LATENCY", "THROUGHPUT"], types
        return f"status {resp.status_code}, {sum(len(x.values or []) for x in m.measurements)} samples"

    check("metrics (GET .../inferences/{id}/metrics, MetricsResponse)", metrics)

    def update():
        autoscaling = dict(state["spec"].get("autoscaling") or {})
        autoscaling["maxReplicas"] = int(autoscaling.get("maxReplicas") or 1) + 1
        autoscaling["minReplicas"] = int(autoscaling.get("minReplicas") or 1)
        # The ordinary way: a request built from a dict, as runapy's examples do.
        request = models.InferenceUpdateRequest.from_dict({"spec": {"autoscaling": autoscaling}})
        resp = wl.inferences.update_inference_spec(workload_id=wid, inference_update_request=request)
        assert resp.status_code in (200, 202), resp.status_code
        after = models.Inference1.from_dict(wl.inferences.get_inference(workload_id=wid).data)
        assert after.spec.image == state["image"], f"image {state['image']!r} became {after.spec.image!r}"
        got = after.spec.autoscaling.max_replicas
        assert got == autoscaling["maxReplicas"], f"maxReplicas {got}, wanted {autoscaling['maxReplicas']}"
        return f"maxReplicas {got}, image kept"

    check("update (PATCH .../inferences/{id}, InferenceUpdateRequest from a dict)", update)


if __name__ == "__main__":
    main()
