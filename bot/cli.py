"""``govbot`` command line (see README.md and the public contract).

    govbot train [--force]          train the Rasa model into models/
    govbot classify [--model PATH]  one JSON object per stdin line
    govbot eval [--test FILE] [--json]
    govbot conversations            play tests/conversations; writes reports/conversations.md
    govbot shell                    chat with the bot in this terminal
    govbot run                      train if needed, start action + Rasa servers + API
    govbot web                      the web pages and the department API (alias: govbot api)
    govbot cluster --replicas N     production mode: N Rasa replicas behind nginx
    govbot events consume [--once]  production: conversation events → the turns table
    govbot web user add --username U --role agent|handler|admin [--department D]
    govbot web user unlock --username U   forget U's failed logins (after a lock-out)
    govbot api token add --name N --role admin|handler|agent [--department D]
    govbot tickets jobs             the periodic jobs once: outbox, overdue tickets, policy notices
    govbot kb ingest DIR --kb PATH  (re)build the policy knowledge base from DIR
    govbot kb search QUERY --kb PATH [--top-k N] [--region R] [--json]
    govbot kb eval QUESTIONS --kb PATH [--json]
    govbot kb match --kb PATH [--region R] [--size S] [--qualification Q …] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.logs import configure_logging, quiet_rasa_environment
from bot.settings import Settings, SettingsError, load_settings

logger = logging.getLogger("govbot")


def _current_model(settings: Settings, model: str | None) -> Path:
    """The model to use: ``--model`` if given, else the project model, trained if stale."""
    if model:
        path = Path(model)
        if not path.is_file():
            raise SettingsError(f"model file {path} does not exist")
        return path
    from bot.model import is_current, train

    if not is_current(settings):
        print("The model is missing or out of date; training it first …", file=sys.stderr)
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for results
            train(settings)
    return settings.model_file


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from bot.model import train

    if args.with_corrections:
        _write_corrections(settings)
    result = train(settings, force=args.force)
    if result.trained:
        print(f"Trained {result.model} in {result.seconds:.1f} s.")
    else:
        print(f"{result.model} is up to date (use --force to retrain).")
    return 0


def _write_corrections(settings: Settings) -> None:
    """The accepted corrections into data/nlu/corrections.yml (held-out texts left out);
    the model they change is kept as models/govbot.before-corrections.tar.gz."""
    import shutil

    from bot.corrections import accepted, write_training_file
    from bot.db.engine import database_engine
    from bot.examples import load_test_file

    engine = database_engine(settings)
    try:
        rows = accepted(engine)
    finally:
        engine.dispose()
    heldout = [e.text for f in settings.heldout_files for e in load_test_file(f)]
    before = settings.corrections_file.read_text(encoding="utf-8") \
        if settings.corrections_file.is_file() else None
    n = write_training_file(settings.corrections_file, rows, exclude=heldout)
    changed = settings.corrections_file.read_text(encoding="utf-8") != before
    if changed and settings.model_file.is_file():
        shutil.copy2(settings.model_file, before_corrections_model(settings))
    print(f"{n} accepted corrections in {settings.corrections_file}"
          + ("" if changed else " (unchanged)") + ".")


def before_corrections_model(settings: Settings) -> Path:
    return settings.models_dir / "govbot.before-corrections.tar.gz"


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    from bot.parsing import NluParser

    parser = NluParser(_current_model(settings, args.model))
    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", newline=None,
                 closefd=False)
    for line in stdin:
        text = line.rstrip("\r\n")
        print(json.dumps(parser.parse(text), ensure_ascii=False), flush=True)
    parser.close()
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.baseline import Baseline
    from bot.evaluation import errors, markdown_report, score
    from bot.examples import load_test_file, load_training_examples
    from bot.parsing import NluParser

    test_file = Path(args.test) if args.test else settings.heldout_file
    gold = load_test_file(test_file)
    train_examples = load_training_examples(settings.training_files())
    model_file = _current_model(settings, args.model)

    parser = NluParser(model_file)
    started = time.perf_counter()
    views = [parser.parse(g.text) for g in gold]
    parse_ms = 1000 * (time.perf_counter() - started) / max(len(gold), 1)
    model_pred = _predictions(views)
    fixed = load_training_examples([settings.corrections_file]) \
        if settings.corrections_file.is_file() else []
    before = before_corrections_model(settings)
    compare = {}
    if fixed and before.is_file() and not args.model:  # govbot train --with-corrections
        compare["corrections"] = {"after": score(fixed, _predict(parser, fixed)), "n": len(fixed)}
        parser.close()
        parser = NluParser(before)
        compare["before_corrections"] = score(gold, _predict(parser, gold))
        compare["corrections"]["before"] = score(fixed, _predict(parser, fixed))
    parser.close()

    started = time.perf_counter()
    baseline = Baseline().fit(train_examples)
    baseline_seconds = time.perf_counter() - started
    base_pred = baseline.predict([g.text for g in gold])

    result = {
        "test_file": str(test_file), "model_file": str(model_file),
        "n_train": len(train_examples),
        "model": {**score(gold, model_pred), "parse_ms_mean": parse_ms,
                  "fallback_rate": sum(bool(v["intent"].get("fallback")) for v in views)
                  / max(len(views), 1)},
        "baseline": {**score(gold, base_pred), "fit_seconds": baseline_seconds},
        "errors": errors(gold, model_pred),
        **compare,
    }
    if not args.test or args.report:
        name = "nlu_eval" if test_file == settings.heldout_file else f"nlu_eval_{test_file.stem}"
        settings.reports_dir.mkdir(exist_ok=True)
        (settings.reports_dir / f"{name}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        (settings.reports_dir / f"{name}.md").write_text(markdown_report(result),
                                                         encoding="utf-8")
        print(f"Report written to {settings.reports_dir}/{name}.md", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(markdown_report(result))
    return 0


def _predictions(views):  # noqa: ANN001, ANN202 - parse results, list[Prediction]
    from bot.examples import Prediction

    return [Prediction(v["intent"]["name"], v["domain"]["name"], v["subtopic"]["name"])
            for v in views]


def _predict(parser, examples):  # noqa: ANN001, ANN202 - NluParser, list[Example]
    return _predictions(parser.parse(e.text) for e in examples)


def cmd_conversations(args: argparse.Namespace, settings: Settings) -> int:
    """Play the scripted conversations against freshly started servers on a scratch
    database; write reports/conversations.{md,json}; exit 1 if any failed."""
    import tempfile
    from dataclasses import replace

    from bot.http.tokens import add_token
    from bot.playback import Player, Target, load_scripts, report
    from bot.runner import Services
    from bot.shell import free_port

    scripts = load_scripts(Path(args.folder))
    if args.only:
        scripts = [s for s in scripts if args.only in s.id]
    model = _current_model(settings, args.model)
    with tempfile.TemporaryDirectory(prefix="govbot-conversations-") as scratch:
        live = replace(settings, var=scratch, rasa_port=free_port(), action_port=free_port(),
                       api_port=free_port())
        services = Services(live, model, Path(scratch) / "run")
        token = add_token(live.api_tokens_file, "conversations", "admin")
        print(f"Starting the servers, then {len(scripts)} conversations …", file=sys.stderr)
        services.start()
        try:
            outcomes = Player(Target(services.rasa_url, services.api_url, token,
                                     services.database_url,
                                     services.settings.rasa_token)).play_all(scripts)
        finally:
            services.stop()
    text = report(outcomes)
    if not args.only:
        settings.reports_dir.mkdir(exist_ok=True)
        (settings.reports_dir / "conversations.md").write_text(text, encoding="utf-8")
        (settings.reports_dir / "conversations.json").write_text(json.dumps(
            [{"category": o.script.category, "name": o.script.name,
              "register": o.script.register, "passed": o.passed, "failures": o.failures}
             for o in outcomes], ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"Report written to {settings.reports_dir}/conversations.md", file=sys.stderr)
    print(text.split("\n## Failures")[0])
    return 0 if all(o.passed for o in outcomes) else 1


def cmd_shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.shell import chat

    return chat(settings, _current_model(settings, args.model), debug=args.debug)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runner import Services, how_to_talk

    model = _current_model(settings, args.model)
    services = Services(settings, model, settings.var_dir / "run")
    return _supervise(services, "Starting the web application, the action server and the "
                      "Rasa server …", lambda: how_to_talk(services))


def _supervise(group, starting: str, ready: Callable[[], str]) -> int:  # noqa: ANN001
    """Start a group of processes (``Services`` or ``Cluster``), print how to use it,
    wait until one exits or Ctrl+C / SIGTERM, and stop them all."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(starting, file=sys.stderr)
    try:
        group.start()
        print(ready(), flush=True)
        return group.wait()
    except KeyboardInterrupt:
        print("\nStopping …", file=sys.stderr)
        return 0
    finally:
        # a second Ctrl+C / SIGTERM must not interrupt stopping: no process left behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        group.stop()


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from bot.application import serve

    print(f"Web pages on http://{settings.host}:{settings.api_port}/ and the department API "
          f"on /api/v1 (Ctrl+C stops it)", file=sys.stderr)
    serve(settings, jobs=not args.no_jobs)
    return 0


def cmd_api_token(args: argparse.Namespace, settings: Settings) -> int:
    from bot.http.tokens import add_token

    token = add_token(settings.api_tokens_file, args.name, args.role, args.department)
    print(f"Token for {args.name} ({args.role}) — shown only once, keep it secret:\n{token}")
    print(f"(stored as a hash in {settings.api_tokens_file}; restart the API to load it)",
          file=sys.stderr)
    return 0


def cmd_cluster(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cluster import Cluster

    model = _current_model(settings, args.model)
    cluster = Cluster(settings, model, settings.var_dir / "cluster", replicas=args.replicas,
                      port=args.port)
    return _supervise(cluster, f"Starting {args.replicas} Rasa replicas behind nginx …",
                      lambda: f"govbot cluster: {cluster.url} (webhooks → {args.replicas} Rasa "
                              "replicas, pages and API → the web application). "
                              "Ctrl+C stops it.")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """One process in the foreground, for a service manager (deploy/systemd): the Rasa
    server or the action server, started exactly as govbot run / cluster start them."""
    from bot.runner import (
        actions_command,
        child_environment,
        endpoints_file,
        rasa_command,
    )
    from bot.settings import settings_environment, with_rasa_token

    settings = with_rasa_token(settings)
    if args.process == "rasa":
        model = _current_model(settings, args.model)
        run_dir = settings.var_dir / f"rasa-{settings.rasa_port}"
        run_dir.mkdir(parents=True, exist_ok=True)
        argv, extra = rasa_command(settings, model, endpoints_file(settings, run_dir)), {}
    else:
        argv, extra = actions_command(settings)
    env = {**child_environment(), **settings_environment(settings), **extra}
    os.chdir(settings.root)
    os.execvpe(argv[0], argv, env)  # the service manager supervises the server itself


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.events import consume
    from bot.tickets.factory import build_backend

    if not settings.rabbitmq_url:
        raise SettingsError("govbot events consume needs GOVBOT_RABBITMQ_URL (production mode)")
    engine = build_backend(settings).engine
    read = asyncio.run(consume(engine, settings.rabbitmq_url, once=args.once))
    print(json.dumps({"events": read}))
    return 0


def cmd_web_user(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from bot.tickets.factory import build_backend
    from bot.web.users import UserError, UserStore

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (at least 10 characters): ")
        if password != getpass.getpass("Again: "):
            print("The passwords differ; nothing was saved.", file=sys.stderr)
            return 2
    store = UserStore(build_backend(settings).engine)
    try:
        user = store.add(args.username, password, args.role, args.department, args.name)
    except UserError as err:
        raise SettingsError(str(err)) from None
    print(f"User {user.username} ({user.role}) created; sign in at "
          f"http://{settings.host}:{settings.api_port}/login")
    return 0


def cmd_web_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from bot.tickets.factory import build_backend
    from bot.web.users import UserStore

    cleared = UserStore(build_backend(settings).engine).unlock(args.username)
    print(f"{cleared} failed login(s) of {args.username} forgotten; they may sign in again.")
    return 0


def cmd_ticket_jobs(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.application import run_all_jobs
    from bot.kb.setup import open_knowledge_base
    from bot.settings import with_rasa_token
    from bot.tickets.factory import build_backend
    from bot.tickets.notify import RasaNotifier

    settings = with_rasa_token(settings)
    backend = build_backend(settings)
    notifier = RasaNotifier(settings.rasa, backend.service.store)
    done = asyncio.run(run_all_jobs(backend, notifier, open_knowledge_base(settings), settings))
    print(json.dumps(done))
    return 0


def _tuning(args: argparse.Namespace):  # noqa: ANN202 - bot.kb.ranking.Tuning
    from dataclasses import replace

    from bot.kb.ranking import Tuning

    if args.min_confidence is None:
        return Tuning()
    if not 0 <= args.min_confidence <= 1:
        raise SettingsError("--min-confidence must be between 0 and 1")
    return replace(Tuning(), min_confidence=args.min_confidence)


def cmd_kb_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kb.setup import ingest_folder

    folder = Path(args.dir)
    if not folder.is_dir():
        raise SettingsError(f"{folder} is not a folder of policy documents")
    report = ingest_folder(settings, folder, Path(args.kb))
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    print(report.summary())
    return 1 if report.errors else 0


def cmd_kb_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kb.setup import knowledge_base

    kb = knowledge_base(settings, Path(args.kb), _tuning(args))
    try:
        hits = kb.search(args.query, top_k=args.top_k, region=args.region)
    finally:
        kb.close()
    if args.json:
        print(json.dumps(hits, ensure_ascii=False))
    elif not hits:
        print("(nothing in the knowledge base answers this)")
    for i, h in enumerate([] if args.json else hits, start=1):
        flag = " [EXPIRED]" if h["expired"] else ""
        print(f"{i}. {h['title']}{flag} ({h['doc_no'] or h['doc_id']}) score {h['score']}\n"
              f"   {h['section']}: {h['snippet']}\n   {h['url']}")
    return 0


def cmd_kb_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kb.evaluate import evaluate, load_questions, markdown_report
    from bot.kb.setup import knowledge_base

    kb = knowledge_base(settings, Path(args.kb), _tuning(args))
    try:
        result = evaluate(kb, load_questions(Path(args.questions)))
    finally:
        kb.close()
    if args.report:
        settings.reports_dir.mkdir(exist_ok=True)
        stem = Path(args.questions).stem
        name = "kb_eval" if stem == "questions" else f"kb_eval_{stem}"
        (settings.reports_dir / f"{name}.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        (settings.reports_dir / f"{name}.md").write_text(
            markdown_report(result, Path(args.questions), Path(args.kb)), encoding="utf-8")
    if args.json:
        print(json.dumps({k: v for k, v in result.items()
                          if k not in ("misses", "false_answers", "wrong_answers")},
                         ensure_ascii=False))
    else:
        print(f"n={result['n']}  hit@1={result['hit_at_1']:.3f}  hit@3={result['hit_at_3']:.3f}  "
              f"MRR={result['mrr']:.3f}  answers={result['answer_accuracy']:.3f}  "
              f"wrong={result['wrong_answer_rate']:.3f}  refusals={result['refusal_rate']:.3f}  "
              f"false refusals={result['false_refusal_rate']:.3f}")
    return 0


def cmd_kb_match(args: argparse.Namespace, settings: Settings) -> int:
    from bot.kb.matching import Profile, match_policies, qualifications_in
    from bot.kb.setup import knowledge_base

    profile = Profile(region=args.region, industry=args.industry, size=args.size,
                      qualifications=qualifications_in(" ".join(args.qualification or [])),
                      rd_expense=args.rd_expense, employees=args.employees)
    kb = knowledge_base(settings, Path(args.kb), scoped=False)
    try:
        matches = match_policies(kb.documents(), profile)
    finally:
        kb.close()
    if args.json:
        print(json.dumps([m.view() for m in matches], ensure_ascii=False))
        return 0
    for m in matches:
        state = "可享受" if m.eligible else ("待确认" if not m.missing else "暂不符合")
        print(f"[{state}] {m.doc['title']} ({m.doc.get('doc_no') or m.doc['id']})")
        for label, items in (("满足", m.met), ("缺少", m.missing), ("需确认", m.unknown)):
            if items:
                print(f"    {label}：{'；'.join(items)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from bot.kb.ranking import Tuning  # the knowledge base's defaults, for the help texts

    ap = argparse.ArgumentParser(prog="govbot", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true", help="log more (to stderr)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the Rasa model into models/")
    p.add_argument("--force", action="store_true", help="retrain even if the model is current")
    p.add_argument("--with-corrections", action="store_true",
                   help="first add the corrections an administrator accepted on the dashboard "
                        "(data/nlu/corrections.yml)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("classify", help="classify stdin lines, one JSON object per line")
    p.add_argument("--model", help="model file (default: models/govbot.tar.gz)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("eval", help="score the model and a baseline on held-out examples")
    p.add_argument("--test", help="file in the NLU test format (default: the held-out set)")
    p.add_argument("--model", help="model file (default: models/govbot.tar.gz)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--report", action="store_true",
                   help="write reports/nlu_eval_STEM.{md,json} for a --test file too")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("conversations",
                       help="play the scripted conversations; writes reports/conversations.md")
    p.add_argument("--folder", default="tests/conversations")
    p.add_argument("--only", help="only conversations whose 'category: name' contains this")
    p.add_argument("--model")
    p.set_defaults(func=cmd_conversations)

    p = sub.add_parser("shell", help="chat with the assistant in this terminal")
    p.add_argument("--model", help="model file (default: models/govbot.tar.gz)")
    p.add_argument("--debug", action="store_true", help="show intent, domain and entities")
    p.set_defaults(func=cmd_shell)

    p = sub.add_parser("run", help="train if needed, then start the action and Rasa servers")
    p.add_argument("--model", help="model file (default: models/govbot.tar.gz)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("events", help="conversation events from RabbitMQ (production)")
    e_sub = p.add_subparsers(dest="events_command", required=True)
    e = e_sub.add_parser("consume", help="feed the turns table from the event broker")
    e.add_argument("--once", action="store_true", help="stop when the queue is idle")
    e.set_defaults(func=cmd_events)

    p = sub.add_parser("serve", help="one server in the foreground (for systemd units)")
    p.add_argument("process", choices=("rasa", "actions"))
    p.add_argument("--model", help="model file (default: models/govbot.tar.gz)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("cluster", help="production: N Rasa replicas behind nginx")
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--port", type=int, default=8080, help="the port nginx listens on")
    p.add_argument("--model", help="model file (default: models/govbot.tar.gz)")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("web", aliases=["api"],
                       help="serve the web pages and the department API (started by run too)")
    p.add_argument("--no-jobs", action="store_true",
                   help="do not run the periodic ticket jobs in this process")
    p.set_defaults(func=cmd_api)
    api_sub = p.add_subparsers(dest="api_command")
    u = api_sub.add_parser("user", help="manage web users")
    u_sub = u.add_subparsers(dest="user_command", required=True)
    add = u_sub.add_parser("add", help="create a user (the first admin, agents, handlers)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["agent", "handler", "admin"])
    add.add_argument("--department", help="a handler's department, as in the routing rules")
    add.add_argument("--name", help="display name, e.g. 王芳")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin")
    add.set_defaults(func=cmd_web_user)
    unlock = u_sub.add_parser("unlock", help="forget a user's failed logins (after a lock-out)")
    unlock.add_argument("--username", required=True)
    unlock.set_defaults(func=cmd_web_unlock)
    t = api_sub.add_parser("token", help="manage API tokens")
    t_sub = t.add_subparsers(dest="token_command", required=True)
    add = t_sub.add_parser("add", help="create a token (printed once)")
    add.add_argument("--name", required=True, help="who holds it, e.g. 张三")
    add.add_argument("--role", required=True, choices=["admin", "handler", "agent"])
    add.add_argument("--department", help="a handler's department, as in the routing rules")
    add.set_defaults(func=cmd_api_token)

    p = sub.add_parser("tickets", help="ticket maintenance")
    t_sub = p.add_subparsers(dest="tickets_command", required=True)
    j = t_sub.add_parser("jobs", help="run the periodic jobs once (for cron / systemd)")
    j.set_defaults(func=cmd_ticket_jobs)

    p = sub.add_parser("kb", help="the policy knowledge base")
    k_sub = p.add_subparsers(dest="kb_command", required=True)
    k = k_sub.add_parser("ingest", help="ingest every policy document under DIR")
    k.add_argument("dir")
    k.add_argument("--kb", required=True, help="knowledge-base folder (created if missing)")
    k.set_defaults(func=cmd_kb_ingest)
    k = k_sub.add_parser("search", help="search the knowledge base")
    k.add_argument("query")
    k.add_argument("--kb", required=True)
    k.add_argument("--top-k", type=int, default=5)
    k.add_argument("--region", help="the asker's region, e.g. 龙游县 (local policies first)")
    k.add_argument("--json", action="store_true", help="print a JSON array of hits")
    k.add_argument("--min-confidence", type=float,
                   help=f"answer only above this confidence (default {Tuning.min_confidence}; "
                        f"see docs/knowledge_base.md)")
    k.set_defaults(func=cmd_kb_search)
    k = k_sub.add_parser("eval", help="score retrieval on a question file")
    k.add_argument("questions")
    k.add_argument("--kb", required=True)
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.add_argument("--report", action="store_true", help="write reports/kb_eval.{md,json} "
                   "(reports/kb_eval_STEM.* for another question file)")
    k.add_argument("--min-confidence", type=float, help="as for kb search")
    k.set_defaults(func=cmd_kb_eval)
    k = k_sub.add_parser("match", help="policies an enterprise may be eligible for (政策直达)")
    k.add_argument("--kb", required=True)
    k.add_argument("--region", help="e.g. 龙游县")
    k.add_argument("--industry", help="国民经济行业分类 门类, e.g. 制造业")
    k.add_argument("--size", choices=["micro", "small", "medium", "large"])
    k.add_argument("--qualification", action="append",
                   help="e.g. 高新技术企业 (repeatable; short forms like 高企 work)")
    k.add_argument("--rd-expense", type=float, help="research spending, yuan per year")
    k.add_argument("--employees", type=int)
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_kb_match)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_rasa_environment()
    configure_logging(args.verbose)
    try:
        settings = load_settings()
        return args.func(args, settings)
    except (SettingsError, ValueError, RuntimeError, OSError) as exc:
        logger.info("command failed", exc_info=True)  # the traceback, with -v
        print(f"govbot {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
