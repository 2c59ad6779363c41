"""The `battrace` command: thin drivers that parse, call one service and render."""

from __future__ import annotations

import typer

from battrace.cli import api, code, compliance, demo, keys, ledger, log, proofs, sim

app = typer.Typer(
    name="battrace",
    help="battrace — China's power-battery digital ID: codes, lifecycle ledger, compliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(code.app, name="code")
app.command("init")(ledger.init)
app.command("ingest")(ledger.ingest)
app.command("trace")(ledger.trace)
app.command("vehicle")(ledger.vehicle)
app.command("rebuild")(ledger.rebuild)
app.command("simulate")(sim.simulate)
app.command("demo")(demo.demo)
app.command("serve")(api.serve)
app.command("audit")(compliance.audit)
app.command("findings")(compliance.findings)
app.command("rules")(compliance.rules)
app.command("checkpoint")(log.checkpoint)
app.command("verify")(log.verify)
app.command("receipt")(log.receipt)
app.add_typer(log.proof_app, name="proof")
app.add_typer(keys.app, name="keys")
app.command("verify-proof")(proofs.verify_proof)


def main() -> None:
    """Console entry point."""
    app()
