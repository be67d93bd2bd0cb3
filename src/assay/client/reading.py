"""What the command line reads through a team server (runs compared, artifacts, lineage, a
model version, reports, alerts and retrainings), each answer turned back into what the store
here would have given: its records, a lineage graph, a table of runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assay import errors
from assay.lineage import LineageEdge, LineageGraph, LineageNode
from assay.metadata import (
    AlertRecord,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    ModelVersionRecord,
    PromotionRequestRecord,
    RetrainRecord,
    RunRecord,
)
from assay.registry.versions import parse_ref
from assay.remote import number, parsed
from assay.tracking import RunDetail, RunPage

if TYPE_CHECKING:
    import pandas as pd

    from assay.client.team import ShownVersion

__all__ = ["Reading"]


PAGE = 1_000  # the most the server gives in one page
_NODE = ("id", "type", "label")  # what a lineage node holds besides its attributes
_MOMENTS = ("started_at", "ended_at")  # the fields of a runs table that are timestamps
# The attributes a runs table begins with, as ``assay.tracking.runs_frame`` writes them.
_ATTRIBUTES = ("id", "experiment", "pipeline", "status", "user", "started_at", "ended_at")


def _cell(field: str, value: Any) -> Any:
    # A field of runs compared as the store's table holds it: moments as timestamps (a
    # missing one NaT), metrics as floats; JSON spells out what it cannot hold.
    import pandas as pd  # noqa: PLC0415 - only tables need pandas

    if field in _MOMENTS:
        return pd.NaT if value is None else pd.Timestamp(value)
    return number(value) if field.startswith("metrics.") else value


def _version_at(ref: str) -> tuple[str, str]:
    """The model ``ref`` names and the version, alias or ``latest`` it names of it."""
    name = parse_ref(ref).name  # a malformed reference: the store's own error
    return name, ref.strip().partition("@")[2] or "latest"


class Reading:
    """The reads of :class:`~assay.client.Remote` (mixed into it), made with its ``call``."""

    call: Callable[..., Any]  # the JSON answer to a request
    text: Callable[[str, dict[str, Any]], str]  # the text answer to a GET
    runs: Callable[..., RunPage]

    def _all(self, path: str, key: str, params: dict[str, Any]) -> list[Any]:
        # Every page of a listing the server cuts with cursors.
        found: list[Any] = []
        cursor: str | None = None
        while True:
            page = self.call("GET", path, params={**params, "limit": PAGE, "cursor": cursor})
            found.extend(page[key])
            cursor = page.get("next_cursor")
            if cursor is None:
                return found

    def run(self, ref: str) -> RunDetail:
        """The run whose id is or starts with ``ref``, in full (``GET /runs/{ref}?full``)."""
        found = self.call("GET", f"/runs/{ref}", params={"full": True})
        executions = found.pop("executions")
        metrics = found.pop("metrics")
        return RunDetail(
            parsed(RunRecord, found),
            [
                parsed(ExecutionRecord, {k: v for k, v in e.items() if k != "outputs"})
                for e in executions
            ],
            {e["id"]: dict(e["outputs"]) for e in executions},
            [parsed(MetricRecord, {**m, "value": number(m["value"])}) for m in metrics],
        )

    def compare(self, refs: list[str]) -> tuple[pd.DataFrame, list[str]]:
        """Runs side by side, one column a run (its short id), one row a field, as
        ``assay.tracking.compare_runs`` gives them; and the fields that differ."""
        import pandas as pd  # noqa: PLC0415 - only tables need pandas

        found = self.call("GET", "/compare", params={"run": refs})
        rows = {
            field: [_cell(field, v) for v in values] for field, values in found["fields"].items()
        }
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=found["runs"], dtype=object)
        return frame, [str(f) for f in found["differing"]]

    def runs_table(
        self,
        *,
        experiment: str | None,
        where: str | None,
        order_by: str | None,
        limit: int | None,
    ) -> pd.DataFrame:
        """The runs a search finds as ``assay.tracking.runs_frame`` tabulates them:
        attributes, ``params.*``, ``tags.*`` and last ``metrics.*``, from the listing."""
        import pandas as pd  # noqa: PLC0415 - only tables need pandas

        page = self.runs(
            experiment=experiment, where=where, order_by=order_by, limit=limit, pipeline=None
        )
        rows: list[dict[str, Any]] = []
        for run in page.runs:
            row: dict[str, Any] = {a: getattr(run, a) for a in _ATTRIBUTES}
            row.update({f"params.{k}": v for k, v in run.params.items()})
            row.update({f"tags.{k}": v for k, v in run.tags.items()})
            row.update({f"metrics.{k}": v for k, v in page.metrics.get(run.id, {}).items()})
            rows.append(row)
        columns = dict.fromkeys(_ATTRIBUTES)
        for prefix in ("params.", "tags.", "metrics."):
            columns.update(
                dict.fromkeys(sorted({k for r in rows for k in r if k.startswith(prefix)}))
            )
        frame = pd.DataFrame(rows, columns=list(columns))
        for column in _MOMENTS:
            frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
        return frame

    def artifact(self, digest: str, *, verify: bool) -> dict[str, Any]:
        """An artifact as ``assay artifacts show --json`` prints it; with ``verify``, its
        bytes re-hashed on the server first.

        Raises:
            IntegrityError: the stored bytes hash to something else.
        """
        found: dict[str, Any] = self.call("GET", f"/artifacts/{digest}", params={"verify": verify})
        return found

    def lineage(self, ref: str, *, down: bool) -> LineageGraph:
        """The graph upstream of ``ref`` (an artifact or NAME@VERSION), or downstream."""
        found = self.call("GET", f"/lineage/{ref}", params={"direction": "down" if down else "up"})
        nodes = [
            LineageNode(
                n["id"], n["type"], n["label"], {k: v for k, v in n.items() if k not in _NODE}
            )
            for n in found["nodes"]
        ]
        return LineageGraph(
            root=found["root"],
            direction=found["direction"],
            nodes={n.id: n for n in nodes},
            edges=[LineageEdge(e["source"], e["target"], e["name"]) for e in found["edges"]],
        )

    def version(self, ref: str) -> ShownVersion:
        """A model version with what ``assay models show`` shows beside it."""
        from assay.client.team import ShownVersion  # noqa: PLC0415 - team imports this module

        name, at = _version_at(ref)
        found = self.call("GET", f"/models/{name}/versions/{at}")
        shown = {k: v for k, v in found.items() if k not in ("aliases", "gates", "verdicts")}
        record = parsed(ModelVersionRecord, shown)
        verdicts = parsed(list[GateVerdictRecord], found["verdicts"])
        requests = parsed(
            list[PromotionRequestRecord],
            self.call("GET", "/promotions", params={"name": record.name})["requests"],
        )
        retrains = parsed(
            list[RetrainRecord], self._all("/monitoring/retrains", "retrains", {"model": name})
        )
        mine = [r for r in retrains if r.version == record.version]
        return ShownVersion(
            record,
            list(found["aliases"]),
            verdicts[-1] if verdicts else None,
            [r for r in requests if r.version == record.version],
            max(mine, key=lambda r: r.id) if mine else None,
        )

    def evidence(self, ref: str, *, verify: bool, page: bool) -> tuple[dict[str, Any], str | None]:
        """A version's evidence (``assay.evidence/1``) and, with ``page``, its HTML page,
        drawn here from that evidence by the renderer the server uses: asking the server
        for the page too would build the evidence, and verify the chain, twice."""
        name, at = _version_at(ref)
        path = f"/models/{name}/versions/{at}/evidence"
        found: dict[str, Any] = self.call("GET", path, params={"verify": verify})
        if not page:
            return found, None
        from assay.report.html import render_html  # noqa: PLC0415 - Jinja2 only for a page

        return found, render_html(found)

    def monitoring(
        self, ref: str, *, since: float | None, all_versions: bool
    ) -> tuple[dict[str, Any], str]:
        """What the monitoring report of ``ref`` shows, and its HTML page as the server
        renders it; a plain NAME (or ``all_versions``): every version of the model."""
        name = parse_ref(ref).name
        version = None if "@" not in ref else ref.strip().partition("@")[2]
        if all_versions and version is not None:
            self.version_of(name, version)  # the same refusal of an unknown version
            version = None
        query = {"version": version, "since": since}
        path = f"/models/{name}/monitoring"
        found: dict[str, Any] = self.call("GET", path, params=query)
        return found, self.text(path, {**query, "format": "html"})

    def version_of(self, name: str, at: str) -> int:
        """The number of the version ``at`` (a number, an alias, latest) of model ``name``."""
        return int(self.call("GET", f"/models/{name}/versions/{at}")["version"])

    def alerts(self, model: str | None, status: str | None) -> list[AlertRecord]:
        """Stored alerts (of ``model``, in ``status``), newest first."""
        query = {"model": model, "status": status}
        return parsed(list[AlertRecord], self._all("/monitoring/alerts", "alerts", query))

    def close_alert(self, alert_id: int, reason: str) -> AlertRecord:
        """Close an open alert, saying what was done about it."""
        if not reason.strip():  # the store's refusal, before the server's check of the body
            raise errors.GovernanceError(
                "closing an alert needs a reason", hint="add --reason 'why'"
            )
        path = f"/monitoring/alerts/{alert_id}/close"
        return parsed(AlertRecord, self.call("POST", path, body={"reason": reason}))

    def retrains(self, model: str | None) -> list[RetrainRecord]:
        """Retrainings monitoring started (of ``model``), newest first."""
        found = self._all("/monitoring/retrains", "retrains", {"model": model})
        return parsed(list[RetrainRecord], found)
