#!/usr/bin/env python3
"""Build your own view from Pacta's log: activities per year per home region.

A worked example of an out-of-process consumer, standard library only. It
catches up by paging GET /api/v1/events, then (with --follow) follows the
live stream GET /api/v1/events/stream. Its state and the log position that
state reflects are saved together, atomically, after each applied record
(at most once a second while catching up), so a consumer killed at any moment
(even kill -9) resumes exactly after the last record it saved: no record
is missed or counted twice.

The view counts activities as the registry's annual report does: an
activity counts for year Y when every day its date allows lies in Y
(`derived.earliest` and `derived.latest` in one calendar year); a
correction that puts a date in place moves it; a retraction removes it.

    python3 consumer.py --state view.json            # catch up, print, exit
    python3 consumer.py --state view.json --follow    # then follow live
    python3 consumer.py --state view.json --print     # print the saved view
"""

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

TYPES = ("ActivityRecorded", "Corrected", "Retracted")
FILTER = {"stream_kind": "partnership", "types": ",".join(TYPES)}


def load(path):
    """The saved state, or a fresh one (position 0: nothing applied yet)."""
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    # activities: event id -> {"home", "year" (None: not counted), "retracted"};
    # applied: how many records of the three types were applied (a check
    # that a resumed consumer saw each exactly once).
    return {"position": 0, "applied": 0, "activities": {}}


def save(path, state):
    """Write state and position in one atomic step: temp file, fsync, rename."""
    if not path:
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".consumer-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(folder, os.O_RDONLY)  # make the rename itself durable
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def year_of(derived):
    """The calendar year holding every day a date allows, else None."""
    earliest, latest = derived.get("earliest"), derived.get("latest")
    if earliest and latest and earliest[:4] == latest[:4]:
        return int(earliest[:4])
    return None


def apply(state, record):
    """Apply one record of the log to the state (any record: others are skipped).

    Activities are keyed by event id, so records applied again in order
    leave the same view; it is the saved position that keeps a record
    from being missed.
    """
    if record["stream"].startswith("partnership/") and record["type"] in TYPES:
        activities, derived = state["activities"], record.get("derived") or {}
        state["applied"] += 1
        if record["type"] == "ActivityRecorded":
            activities[record["event_id"]] = {
                "home": derived.get("home"), "year": year_of(derived), "retracted": False}
        else:
            activity = activities.get(record["data"].get("target"))
            if activity is not None and not activity["retracted"]:
                if record["type"] == "Retracted":
                    activity.update(retracted=True, year=None)
                elif derived.get("latest") is not None:
                    # A correction with days puts a date in place; one
                    # without (data only) leaves the date, and the year, alone.
                    activity["year"] = year_of(derived)
    state["position"] = record["position"]


def view(state):
    """The view, in the shape GET /api/v1/views/activity answers."""
    counts = {}
    for a in state["activities"].values():
        if a["year"] is not None and not a["retracted"]:
            key = (a["home"], a["year"])
            counts[key] = counts.get(key, 0) + 1
    rows = [{"home": h, "year": y, "activities": n} for (h, y), n in sorted(counts.items())]
    return {"view": "activity", "position": state["position"], "rows": rows}


def catch_up(args, state):
    """Page through the log from the saved position to the head.

    The state is saved with its position at most once a second (and at
    the end): saving is what costs, and a crash loses only the pages
    since, which are read again.
    """
    saved = time.monotonic()
    while True:
        query = {"after": state["position"], "limit": 1000, **args.filter}
        url = args.url + "/api/v1/events?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=60) as answer:
            page = json.load(answer)
        for record in page["items"]:
            apply(state, record)
        # Positions are global: a filtered page has looked at every record
        # up to `next_after` (or, on the last page, up to the head), wanted
        # or not, so the reader may move past them.
        last = page["next_after"] or page["head_position"]
        state["position"] = max(state["position"], last)
        done = page["next_after"] is None
        if done or time.monotonic() - saved >= args.save_every:
            save(args.state, state)  # state and its position in one write
            saved = time.monotonic()
        if done:
            return


def follow(args, state):
    """Follow the live stream forever, resuming with Last-Event-ID.

    Each SSE event's `id` is its record's position. A filtered stream sends
    only the records wanted, and, once caught up, an `event: position`
    saying how far it has read past the others.
    """
    url = args.url + "/api/v1/events/stream?" + urllib.parse.urlencode(args.filter)
    while True:
        request = urllib.request.Request(url, headers={
            "Accept": "text/event-stream", "Last-Event-ID": str(state["position"])})
        try:
            with urllib.request.urlopen(request, timeout=60) as stream:
                event, data = None, []
                for raw in stream:  # one SSE field per line; a blank line ends an event
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if line.startswith(":"):
                        continue  # a keep-alive comment
                    if line:
                        field, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if field == "event":
                            event = value
                        elif field == "data":
                            data.append(value)
                        continue  # `id` is the record's position, also in its JSON
                    if event == "record":
                        apply(state, json.loads("\n".join(data)))
                        save(args.state, state)
                    elif event == "position":
                        # Caught up past records the filter leaves out: resume
                        # from here next time instead of scanning them again.
                        state["position"] = max(state["position"], json.loads("\n".join(data))["position"])
                        save(args.state, state)
                    elif event == "error":
                        print("stream error: " + "\n".join(data), file=sys.stderr)
                        break
                    event, data = None, []
                print("stream ended; resuming after %d" % state["position"], file=sys.stderr)
        except (OSError, ValueError, http.client.HTTPException) as e:
            # The server away or busy (503), a read timed out, an answer cut short.
            print("stream: %s; resuming after %d" % (e, state["position"]), file=sys.stderr)
        time.sleep(1)  # a short pause, then reconnect with Last-Event-ID


def main():
    parser = argparse.ArgumentParser(
        description="Activities per year per home region, built from Pacta's log over HTTP.",
        epilog="Without --follow: catch up to the head, print the view as JSON, exit.")
    parser.add_argument("--url", default="http://127.0.0.1:8080",
                        help="the registry (default: %(default)s)")
    parser.add_argument("--state", metavar="FILE",
                        help="state and position, saved together; resumed from if present")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--follow", action="store_true",
                      help="after catching up, follow the live stream until killed")
    mode.add_argument("--print", action="store_true",
                      help="only print the view saved in --state (no requests)")
    parser.add_argument("--save-every", type=float, default=1.0, metavar="SECONDS",
                        help="while catching up, save at most this often (default: %(default)s)")
    parser.add_argument("--no-filter", action="store_true",
                        help="read every record and filter here, not on the server")
    args = parser.parse_args()
    args.url = args.url.rstrip("/")
    args.filter = {} if args.no_filter else FILTER
    state = load(args.state)
    if args.follow:
        try:
            catch_up(args, state)
        except (OSError, ValueError, http.client.HTTPException) as e:
            # The stream itself also sends every record after the position.
            print("catching up: %s; following the stream" % e, file=sys.stderr)
        try:
            follow(args, state)
        except KeyboardInterrupt:
            return
    elif not args.print:
        catch_up(args, state)
    print(json.dumps(view(state)))


if __name__ == "__main__":
    main()
