#!/usr/bin/python3
"""A Skein client in Python, as a user in another language would write one.

Generates its stubs from proto/ into a temporary directory with Debian's python3-grpc-tools, then,
against a running Skein (`--server host:port`): checks health, applies a workflow, triggers a run
(twice with one request_id), follows it with WatchRun to the end, pages through ListRuns to
exhaustion, tails a log with TailLogs, hits deadlines, decodes the google.rpc.Status/ErrorInfo
of an invalid workflow, gets UNAUTHENTICATED without a token and PERMISSION_DENIED with a viewer
token on a mutation. Exits 0 only if every check passed.

Every call sends the admin API token from SKEIN_TOKEN as `authorization: Bearer <token>`, added by a
client interceptor (the pattern docs/security.md shows). Run by apps/cli/src/e2e/python-client.test.ts:
    SKEIN_TOKEN=$(cat .skein/admin-token) /usr/bin/python3 tests/python/skein_client_test.py --server 127.0.0.1:7070 --repo .
"""

import argparse
import collections
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

DEADLINE_S = 10.0
WATCH_DEADLINE_S = 120.0


def generate_stubs(repo: str, out: str) -> None:
    """protoc from python3-grpc-tools, over a copy of the .proto files.

    Debian bookworm's grpc-tools bundles protoc 3.5.1, which predates proto3 `optional` (3.12).
    `optional` only adds presence tracking in generated code and leaves the wire format unchanged,
    so the copy drops the keyword; `exit_code` then reads 0 when unset (use `state` to tell).
    """
    import grpc_tools  # noqa: F401  (fail early with a clear message when the package is missing)

    src = os.path.join(out, "proto")
    shutil.copytree(os.path.join(repo, "proto", "skein"), os.path.join(src, "skein"),
                    ignore=shutil.ignore_patterns("baseline"))
    google = os.path.join(repo, "node_modules", "google-proto-files", "google", "rpc")
    os.makedirs(os.path.join(src, "google", "rpc"))
    for name in ("status.proto", "error_details.proto"):
        shutil.copy(os.path.join(google, name), os.path.join(src, "google", "rpc", name))
    os.makedirs(os.path.join(src, "health", "v1"))
    shutil.copy(os.path.join(repo, "node_modules", "grpc-health-check", "proto", "health", "v1", "health.proto"),
                os.path.join(src, "health", "v1", "health.proto"))
    files = sorted(glob.glob(os.path.join(src, "**", "*.proto"), recursive=True))
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = "\n".join(line.replace("optional ", "", 1) if line.lstrip().startswith("optional ") else line
                         for line in text.split("\n"))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", src, "-I", well_known,
                    "--python_out", out, "--grpc_python_out", out, *[os.path.relpath(p, src) for p in files]],
                   cwd=src, check=True)
    sys.path.insert(0, out)


def bearer_token_interceptor(token: str):
    """A client interceptor adding `authorization: Bearer <token>` to every unary and server-streaming call."""
    import grpc

    class CallDetails(collections.namedtuple("CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
                      grpc.ClientCallDetails):
        pass

    class BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
        def _with_token(self, details):
            metadata = list(details.metadata or ()) + [("authorization", f"Bearer {token}")]
            return CallDetails(details.method, details.timeout, metadata, details.credentials,
                               getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

        def intercept_unary_unary(self, continuation, details, request):
            return continuation(self._with_token(details), request)

        def intercept_unary_stream(self, continuation, details, request):
            return continuation(self._with_token(details), request)

    return BearerToken()


def error_info(err):
    """The google.rpc.Status of a failed call and its ErrorInfo details."""
    from google.rpc import error_details_pb2, status_pb2
    raw = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
    if raw is None:
        return None, []
    status = status_pb2.Status.FromString(raw)
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append(info)
    return status, infos


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    print(f"ok: {message}", flush=True)


WORKFLOW = """apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: py-client}
spec:
  tasks:
    - name: greet
      command: ["sh", "-c", "echo hello from python; sleep 1; echo second line"]
    - name: after
      dependsOn: [greet]
      command: ["echo", "done"]
"""

SLOW_WORKFLOW = """apiVersion: skein.dev/v1
kind: Workflow
metadata: {name: py-slow}
spec:
  tasks:
    - name: nap
      command: ["sleep", "60"]
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--repo", required=True)
    args = parser.parse_args()
    token = os.environ.get("SKEIN_TOKEN", "")
    if not token:
        print("SKEIN_TOKEN must hold an admin API token", file=sys.stderr)
        return 2

    out = tempfile.mkdtemp(prefix="skein-py-")
    try:
        generate_stubs(os.path.abspath(args.repo), out)
        return run(args.server, token)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run(server: str, token: str) -> int:
    import grpc
    from google.rpc import error_details_pb2, status_pb2
    from health.v1 import health_pb2, health_pb2_grpc
    from skein.v1 import log_service_pb2, log_service_pb2_grpc, run_pb2, run_service_pb2, run_service_pb2_grpc
    from skein.v1 import token_service_pb2, token_service_pb2_grpc, workflow_service_pb2, workflow_service_pb2_grpc

    # Keepalive pings every 30 s at most, as docs/clients.md recommends (the server permits that).
    raw_channel = grpc.insecure_channel(server, options=[("grpc.keepalive_time_ms", 30_000),
                                                         ("grpc.max_receive_message_length", 16 * 1024 * 1024)])
    channel = grpc.intercept_channel(raw_channel, bearer_token_interceptor(token))
    workflows = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
    runs = run_service_pb2_grpc.RunServiceStub(channel)
    logs = log_service_pb2_grpc.LogServiceStub(channel)
    tokens = token_service_pb2_grpc.TokenServiceStub(channel)
    # Health checking needs no token.
    health = health_pb2_grpc.HealthStub(raw_channel)

    # Health.
    for service in ("", "skein.v1.RunService"):
        res = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE_S)
        check(res.status == health_pb2.HealthCheckResponse.SERVING, f"health of {service or 'the server'} is SERVING")

    # No token: UNAUTHENTICATED, and nothing is read.
    try:
        workflow_service_pb2_grpc.WorkflowServiceStub(raw_channel).ListWorkflows(workflow_service_pb2.ListWorkflowsRequest(), timeout=DEADLINE_S)
        check(False, "a call without a token is refused")
    except grpc.RpcError as err:
        check(err.code() == grpc.StatusCode.UNAUTHENTICATED, "a call without a token is UNAUTHENTICATED")
        _, infos = error_info(err)
        check(len(infos) == 1 and infos[0].reason == "TOKEN_MISSING", "its ErrorInfo reason is TOKEN_MISSING")

    # Apply.
    applied = workflows.ApplyWorkflow(workflow_service_pb2.ApplyWorkflowRequest(source=WORKFLOW, file_name="py.yaml"),
                                      timeout=DEADLINE_S)
    check(applied.workflow.name == "workflows/py-client", "ApplyWorkflow returns the workflow")

    # Trigger, idempotently.
    request_id = f"py-{uuid.uuid4()}"
    first = runs.TriggerRun(run_service_pb2.TriggerRunRequest(parent="workflows/py-client", request_id=request_id),
                            timeout=DEADLINE_S).run
    again = runs.TriggerRun(run_service_pb2.TriggerRunRequest(parent="workflows/py-client", request_id=request_id),
                            timeout=DEADLINE_S).run
    check(again.run_id == first.run_id, "a repeated request_id returns the first run")

    # Watch to the end.
    messages = list(runs.WatchRun(run_service_pb2.WatchRunRequest(name=first.name), timeout=WATCH_DEADLINE_S))
    check(len(messages) >= 1, f"WatchRun sent {len(messages)} message(s) and ended")
    check(sorted(t.task for t in messages[0].task_runs) == ["after", "greet"], "the first message holds every task run")
    final = messages[-1].run
    check(final.state == run_pb2.RUN_STATE_SUCCEEDED, f"the run ended SUCCEEDED (got {run_pb2.RunState.Name(final.state)})")
    seen_states = [run_pb2.RunState.Name(m.run.state) for m in messages]
    if messages[0].run.state != run_pb2.RUN_STATE_SUCCEEDED:
        check(len(messages) >= 2, f"WatchRun streamed the changes of a running run: {seen_states}")

    # Page through ListRuns to exhaustion.
    created = {first.run_id}
    for _ in range(3):
        created.add(runs.TriggerRun(run_service_pb2.TriggerRunRequest(parent="workflows/py-client"), timeout=DEADLINE_S).run.run_id)
    listed, token, pages = [], "", 0
    while True:
        page = runs.ListRuns(run_service_pb2.ListRunsRequest(parent="workflows/py-client", page_size=1, page_token=token),
                             timeout=DEADLINE_S)
        listed.extend(r.run_id for r in page.runs)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    check(set(listed) == created and len(listed) == len(created), f"ListRuns paged {pages} pages of 1 to every run once")

    # Tail a finished task's log: every line, then complete.
    lines = []
    for res in logs.TailLogs(log_service_pb2.TailLogsRequest(parent=f"{first.name}/tasks/greet"), timeout=WATCH_DEADLINE_S):
        lines.extend(e.line for e in res.entries)
        if res.complete:
            break
    # The executor adds its own lines (attempt started, exit code) around the task's.
    user_lines = [line for line in lines if line in ("hello from python", "second line")]
    check(user_lines == ["hello from python", "second line"], f"TailLogs streamed the log: {lines}")

    # Deadlines: a tiny one on a unary call, and one that ends a watch of a run still going.
    try:
        runs.ListRuns(run_service_pb2.ListRunsRequest(parent="workflows/-"), timeout=0.000001)
        check(False, "a 1 µs deadline fails")
    except grpc.RpcError as err:
        check(err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, "a 1 µs deadline is DEADLINE_EXCEEDED")
    workflows.ApplyWorkflow(workflow_service_pb2.ApplyWorkflowRequest(source=SLOW_WORKFLOW, file_name="slow.yaml"), timeout=DEADLINE_S)
    slow = runs.TriggerRun(run_service_pb2.TriggerRunRequest(parent="workflows/py-slow"), timeout=DEADLINE_S).run
    started = time.monotonic()
    try:
        for _ in runs.WatchRun(run_service_pb2.WatchRunRequest(name=slow.name), timeout=1.0):
            pass
        check(False, "a watch of a 60 s run with a 1 s deadline fails")
    except grpc.RpcError as err:
        check(err.code() == grpc.StatusCode.DEADLINE_EXCEEDED,
              f"a 1 s deadline ends a WatchRun with DEADLINE_EXCEEDED after {time.monotonic() - started:.1f}s")
    # A viewer token reads but may not change anything.
    viewer = tokens.CreateToken(token_service_pb2.CreateTokenRequest(display_name="py-viewer", role=token_service_pb2.TOKEN_ROLE_VIEWER),
                                timeout=DEADLINE_S)
    check(viewer.secret.startswith("skn_"), "CreateToken returns the new token's secret")
    viewer_channel = grpc.intercept_channel(raw_channel, bearer_token_interceptor(viewer.secret))
    viewer_runs = run_service_pb2_grpc.RunServiceStub(viewer_channel)
    check(viewer_runs.GetRun(run_service_pb2.GetRunRequest(name=slow.name), timeout=DEADLINE_S).run.name == slow.name, "a viewer token reads a run")
    try:
        viewer_runs.CancelRun(run_service_pb2.CancelRunRequest(name=slow.name, reason="viewer"), timeout=DEADLINE_S)
        check(False, "a viewer token may not cancel a run")
    except grpc.RpcError as err:
        check(err.code() == grpc.StatusCode.PERMISSION_DENIED, "CancelRun with a viewer token is PERMISSION_DENIED")
        status, infos = error_info(err)
        check(status is not None and status.message == err.details(), "its google.rpc.Status message equals grpc-message")
        check(len(infos) == 1 and infos[0].reason == "PERMISSION_DENIED" and infos[0].domain == "skein.dev"
              and infos[0].metadata["requiredRole"] == "operator", "its ErrorInfo is PERMISSION_DENIED, needing operator")
    cancelled = runs.CancelRun(run_service_pb2.CancelRunRequest(name=slow.name, reason="python test"), timeout=DEADLINE_S)
    check(cancelled.cancelled, "CancelRun stops the slow run")

    # The rich error of an invalid workflow.
    bad = WORKFLOW.replace("dependsOn: [greet]", "dependsOn: [gret]")
    try:
        workflows.ApplyWorkflow(workflow_service_pb2.ApplyWorkflowRequest(source=bad, file_name="bad.yaml"), timeout=DEADLINE_S)
        check(False, "an invalid workflow is refused")
    except grpc.RpcError as err:
        check(err.code() == grpc.StatusCode.INVALID_ARGUMENT, "an invalid workflow is INVALID_ARGUMENT")
        raw = dict(err.trailing_metadata() or ()).get("grpc-status-details-bin")
        check(raw is not None, "grpc-status-details-bin is sent")
        status = status_pb2.Status.FromString(raw)
        check(status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0], "google.rpc.Status.code matches")
        check(status.message == err.details(), "google.rpc.Status.message equals grpc-message")
        infos, requests = [], []
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                infos.append(info)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                request = error_details_pb2.BadRequest()
                detail.Unpack(request)
                requests.append(request)
        check(len(infos) == 1 and infos[0].reason == "WORKFLOW_INVALID" and infos[0].domain == "skein.dev",
              "exactly one ErrorInfo: WORKFLOW_INVALID in domain skein.dev")
        violations = [v for r in requests for v in r.field_violations]
        check(any(v.field == "spec.tasks[1].dependsOn[0]" for v in violations),
              f"a BadRequest violation names the field: {[v.field for v in violations]}")

    raw_channel.close()
    print("python client: all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
