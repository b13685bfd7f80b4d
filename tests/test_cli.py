"""The installed `jxc` command, run as a subprocess against fresh SQLite instance folders.

Each call boots the app (1-2 s), so the instances are made once per module and the calls are few.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sqlite3
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from werkzeug.security import check_password_hash

from app.meta.loader import load_metadata
from tests.servers import demo_documents_posted, jxc_init, run_jxc

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).resolve().parent / "data" / "meta_broken"
ADMIN_PASSWORD = "cli-admin-pass-1"
LOCALE_VARIABLES = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "JXC_LANG")
COMMON_DEFAULTS = {"admin", "password", "123456", "changeme", "admin123", "jxc", "secret"}


@dataclass
class Instance:
    """A JXC instance folder with its SQLite database and the environment that points at it."""

    path: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        """The SQLite file."""
        return self.path / "jxc.db"


def make_instance(tmp: Path, admin_password: str | None) -> Instance:
    """An instance folder and an environment for it (no DATABASE_URL, so SQLite in the folder)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "JXC_ADMIN_PASSWORD", "JXC_INSTANCE", "SECRET_KEY")
    }
    env["JXC_INSTANCE"] = str(tmp / "instance")
    if admin_password:
        env["JXC_ADMIN_PASSWORD"] = admin_password
    return Instance(tmp / "instance", env)


def jxc(
    *args: str, instance: Instance | None = None, cwd: Path | None = None, locale: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `jxc` with `args`; `locale`: the shell's LANG / LC_* / JXC_LANG (none set when left out)."""
    env = instance.env if instance else {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env = {k: v for k, v in env.items() if k not in LOCALE_VARIABLES} | (locale or {})
    return run_jxc(*args, env=env, cwd=cwd or ROOT)


def roles_of(instance: Instance, username: str) -> list[str]:
    """Role names of a user, read straight from the instance database."""
    with sqlite3.connect(instance.db) as conn:
        rows = conn.execute(
            "SELECT r.name FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id "
            "JOIN ab_role r ON r.id = ur.role_id WHERE u.username = ?",
            (username,),
        ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """An instance initialised with JXC_ADMIN_PASSWORD set."""
    made = make_instance(tmp_path_factory.mktemp("cli_pw"), ADMIN_PASSWORD)
    result = jxc("init", instance=made, cwd=made.path.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "  新建数据表 item（商品）\n" in result.stdout  # in Chinese, with the model's label
    assert "flask fab" not in result.stderr  # FAB's English note about creating users is not the operator's
    return made


@dataclass
class TwoInits:
    """An instance initialised twice without JXC_ADMIN_PASSWORD, and what each run said."""

    instance: Instance
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    password_file_after_first: str


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> TwoInits:
    """`jxc init` run twice on a fresh instance with no admin password in the environment."""
    made = make_instance(tmp_path_factory.mktemp("cli_gen"), None)
    first = jxc("init", instance=made, cwd=made.path.parent)
    assert first.returncode == 0, first.stderr[-2000:]
    kept = (made.path / "admin_password").read_text()
    second = jxc("init", instance=made, cwd=made.path.parent)
    return TwoInits(made, first, second, kept)


def make_broken_copy(tmp_path: Path) -> Path:
    """metadata/ with the broken fixture files of tests/data/meta_broken laid over it."""
    root = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", root)
    shutil.copytree(BROKEN, root, dirs_exist_ok=True)
    (root / "README.md").unlink()
    return root


def test_meta_check_passes_on_the_real_metadata():
    result = jxc("meta", "check")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^元数据正常：\d+ 个模型，7 个角色$", result.stdout, re.M), result.stdout


def test_meta_check_prints_every_error_with_file_and_line(tmp_path):
    root = make_broken_copy(tmp_path)
    _, errors = load_metadata(root)
    assert len(errors) >= 10
    result = jxc("meta", "check", "--dir", str(root))
    assert result.returncode == 1
    assert "OK" not in result.stdout
    assert "Traceback" not in result.stderr
    printed = result.stderr.splitlines()
    for error in errors:
        assert str(error) in printed
        assert re.match(r"metadata/[\w/]+\.yaml:\d+: ", str(error)), str(error)
    assert f"{root} 中有 {len(errors)} 处错误" in result.stderr


def test_meta_check_with_a_relative_dir_reports_the_same_places(tmp_path):
    """`--dir metadata` from another folder gives the same file:line as an absolute path."""
    root = make_broken_copy(tmp_path)
    result = jxc("meta", "check", "--dir", "metadata", cwd=tmp_path)
    assert result.returncode == 1
    assert "metadata/models/gadget.yaml:15: field 'weight': unknown type 'integr'" in result.stderr
    assert root.is_dir()


def test_init_creates_the_schema_and_the_admin(instance):
    assert roles_of(instance, "admin") == ["admin"]
    with sqlite3.connect(instance.db) as conn:
        stored = conn.execute("SELECT password FROM ab_user WHERE username = 'admin'").fetchone()[0]
    assert check_password_hash(stored, ADMIN_PASSWORD)
    assert not (instance.path / "admin_password").exists()


def test_user_add_with_an_unknown_role_fails_clearly(instance):
    result = jxc("user", "add", "u_boss", "--role", "boss", "--password", "long-enough-1", instance=instance)
    assert result.returncode != 0
    assert "没有角色「boss」；可用的角色：" in result.stderr
    assert "、salesperson" in result.stderr
    assert "Traceback" not in result.stderr
    assert roles_of(instance, "u_boss") == []


def test_user_add_with_a_taken_name_fails_clearly(instance):
    result = jxc("user", "add", "admin", "--role", "clerk", "--password", "long-enough-1", instance=instance)
    assert result.returncode != 0
    assert "用户名「admin」已存在" in result.stderr
    assert roles_of(instance, "admin") == ["admin"]


def test_user_add_with_a_short_password_fails_clearly(instance):
    result = jxc("user", "add", "u_short", "--role", "clerk", "--password", "short", instance=instance)
    assert result.returncode != 0
    assert "密码至少 8 个字符" in result.stderr
    assert roles_of(instance, "u_short") == []


def test_user_add_creates_the_user_with_the_role(instance):
    result = jxc(
        "user",
        "add",
        "u_lily",
        "--role",
        "salesperson",
        "--password",
        "long-enough-1",
        "--name",
        "李莉",
        instance=instance,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "已创建用户 u_lily，角色：销售员" in result.stdout
    assert roles_of(instance, "u_lily") == ["salesperson"]


def test_init_without_admin_password_generates_and_keeps_one(generated):
    match = re.search(r"^已创建用户 admin，密码：(\S+)$", generated.first.stdout, re.M)
    assert match, generated.first.stdout
    password = match.group(1)
    path = generated.instance.path / "admin_password"
    assert path.read_text().strip() == password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(password) >= 12 and password.lower() not in COMMON_DEFAULTS
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "app").rglob("*.py"))
    assert password not in sources  # generated, not a default written in the code
    with sqlite3.connect(generated.instance.db) as conn:
        stored = conn.execute("SELECT password FROM ab_user WHERE username = 'admin'").fetchone()[0]
    assert check_password_hash(stored, password)


def test_init_twice_is_idempotent(generated):
    assert generated.second.returncode == 0, generated.second.stderr[-2000:]
    assert "新建数据表" not in generated.second.stdout
    assert "新增字段" not in generated.second.stdout
    assert "已创建用户 admin" not in generated.second.stdout
    assert "数据库已就绪" in generated.second.stdout
    assert (generated.instance.path / "admin_password").read_text() == generated.password_file_after_first


def test_meta_export_prints_runtime_fields_as_yaml(generated):
    """Empty mapping without runtime fields; a field added in the database comes out in metadata shape."""
    empty = jxc("meta", "export", instance=generated.instance)
    assert empty.returncode == 0, empty.stderr[-2000:]
    assert yaml.safe_load(empty.stdout) in ({}, None)
    spec = {"type": "text", "label": {"zh": "颜色", "en": "Colour"}, "max_length": 20}
    with sqlite3.connect(generated.instance.db) as conn:
        conn.execute(
            "INSERT INTO jxc_meta_field (model, name, spec, created_at, created_by) "
            "VALUES ('item', 'colour', ?, '2026-11-25 08:00:00', 'admin')",
            (json.dumps(spec),),
        )
    exported = jxc("meta", "export", instance=generated.instance)
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert yaml.safe_load(exported.stdout) == {"item": {"fields": {"colour": spec}}}
    assert "颜色" in exported.stdout  # unicode kept readable


def test_user_passwd_checks_the_policy_and_ends_the_users_sessions(instance):
    assert (
        jxc("user", "add", "u_pw", "--role", "clerk", "--password", "long-enough-1", instance=instance).returncode == 0
    )
    with sqlite3.connect(instance.db) as conn:
        user_id = conn.execute("SELECT id FROM ab_user WHERE username = 'u_pw'").fetchone()[0]
        conn.execute(
            "INSERT INTO jxc_login_session (sid, user_id, kind, created_at) VALUES ('s1', ?, 'web', '2026-01-01')",
            (user_id,),
        )
    weak = jxc("user", "passwd", "u_pw", "--password", "u_pw12345", instance=instance)
    assert weak.returncode != 0 and "用户名" in weak.stderr
    done = jxc("user", "passwd", "u_pw", "--password", "Kite-Harbour-73", instance=instance)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(instance.db) as conn:
        stored = conn.execute("SELECT password FROM ab_user WHERE id = ?", (user_id,)).fetchone()[0]
        left = conn.execute("SELECT count(*) FROM jxc_login_session WHERE user_id = ?", (user_id,)).fetchone()[0]
        audit = conn.execute(
            "SELECT after FROM jxc_audit WHERE model = 'ab_user' AND record_id = ?", (user_id,)
        ).fetchall()
    assert check_password_hash(stored, "Kite-Harbour-73") and left == 0
    assert any('"password": "(changed)"' in row[0] for row in audit) and not any("scrypt" in row[0] for row in audit)
    assert jxc("user", "passwd", "nobody_here", "--password", "Kite-Harbour-73", instance=instance).returncode != 0


def test_user_add_does_not_build_the_web_app(instance):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = jxc("user", "add", "u_quick", "--role", "clerk", "--password", "long-enough-1", instance=instance)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0, result.stderr[-2000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 3.5, cpu  # the whole app took 3-5 s of CPU here; configuration and the database take about 1
    # added without --email: the user has no address, and the command says so
    assert "无邮箱" in result.stdout, result.stdout
    with sqlite3.connect(instance.db) as conn:
        email = conn.execute("SELECT email FROM ab_user WHERE username = 'u_quick'").fetchone()[0]
    assert email == "u_quick@no-email.invalid"


def test_instance_files_are_owner_only(instance):
    assert stat.S_IMODE(instance.path.stat().st_mode) == 0o700
    for name in ("jxc.db", "secret_key"):
        assert stat.S_IMODE((instance.path / name).stat().st_mode) == 0o600, name
    (instance.path / "jxc.db").chmod(0o644)  # as earlier versions left it
    assert jxc("meta", "export", instance=instance).returncode == 0
    assert stat.S_IMODE((instance.path / "jxc.db").stat().st_mode) == 0o600


IMPORTS = ROOT / "tests" / "data" / "imports"


def test_import_prints_in_the_users_language_each_message_once(instance: Instance, tmp_path: Path) -> None:
    """`jxc import`: every error as 第 N 行，「C」列：message (row N, column C: message with --lang en), the
    summary in the same language, each message once; exit 0 when applied, 1 when refused."""
    refused = jxc("import", "item", str(IMPORTS / "bad_items.xlsx"), instance=instance)
    assert refused.returncode == 1
    out = refused.stdout.splitlines()
    assert "第 3 行，「*商品编码」列：与第 2 行重复" in out
    assert "第 4 行，「零售价」列：不能小于 0" in out and "未识别的列：Colour" in out
    assert out[-1] == "商品：共 4 行，新增 0，更新 0，未变 0，跳过 0，错误 12"
    assert refused.stderr.strip().splitlines() == [
        "发现 12 处错误，整个文件未导入（可修正后重试，或选择只导入正确的行）"
    ]
    assert len(out) == len(set(out)) == 14

    english = jxc("import", "item", str(IMPORTS / "bad_items.xlsx"), "--lang", "en", instance=instance)
    assert english.returncode == 1
    lines = english.stdout.splitlines()
    assert "row 3, column *商品编码: Same as row 2" in lines
    assert lines[-1] == "Item: 4 rows, created 0, updated 0, unchanged 0, skipped 0, errors 12"

    bomb = jxc("import", "item", str(IMPORTS / "bomb.xlsx"), instance=instance)  # said once, not twice
    said = bomb.stdout + bomb.stderr
    assert bomb.returncode == 1 and said.count("文件解压后过大（疑似压缩炸弹），已拒绝") == 1
    assert "Filter type" not in said

    units = tmp_path / "units.csv"
    units.write_text("单位编码,单位名称\nCLI-BOX,箱\nCLI-BAG,袋\n", encoding="gbk")
    dry = jxc("import", "unit", str(units), "--dry-run", instance=instance)
    assert (
        dry.returncode == 0  # a clean dry run: nothing refused
        and dry.stdout.strip() == "计量单位：共 2 行，新增 2，更新 0，未变 0，跳过 0，错误 0（试运行，未写入任何数据）"
    )
    applied = jxc("import", "unit", str(units), instance=instance)
    assert applied.returncode == 0, applied.stderr
    summary = r"计量单位：共 2 行，新增 2，更新 0，未变 0，跳过 0，错误 0（导入记录 #\d+）"
    assert re.fullmatch(summary, applied.stdout.strip())
    again = jxc("import", "unit", str(units), instance=instance)  # the same file twice
    assert again.returncode == 1 and again.stdout.count("这个文件已经导入过") == 1 and again.stderr == ""


def test_reorder_orders_on_a_business_with_no_warehouse_say_so(instance: Instance) -> None:
    """A fresh `jxc init` has no warehouse: drafting the reorder suggestions' orders answers a field error
    naming the missing warehouse (it was a 500), on the API and in the page's language."""
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{instance.db}", "INSTANCE_PATH": str(instance.path)})
    client = app.test_client()
    login = client.post(
        "/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD, "provider": "db"}
    )
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}", "Accept-Language": "zh-CN"}
    answer = client.post("/api/v1/reorder/orders", json={"items": ["A001"]}, headers=headers)
    assert answer.status_code == 422, answer.get_data(as_text=True)
    body = answer.get_json()
    assert [error["field"] for error in body["errors"]] == ["warehouse"]
    assert "请先在“仓库”中建立一个仓库" in body["errors"][0]["message"]


def test_init_demo_history_posts_documents_the_ledger_agrees_with(tmp_path: Path) -> None:
    """`jxc init --demo --history` (what `make run` does) posts twelve weeks of documents: every item's
    balance is its opening plus its receipts less its deliveries, some items sit below their reorder point
    (补货建议 has something to show), customers have paid; a second run posts nothing again. The first run is the
    test run's one on a fresh SQLite instance (tests/servers.py keeps it for the tests that need the history),
    its output and a copy of its database here."""
    made = make_instance(tmp_path, ADMIN_PASSWORD)
    first = jxc_init(f"sqlite:///{made.db}", made.path, demo=True, history=True, log_name="jxc-init-cli-history")
    posted = demo_documents_posted(first)
    flows = " UNION ALL ".join(
        f"SELECT l.item_id, {sign} * l.{qty} AS qty FROM {model}_line l JOIN {model} d ON d.id = l.parent_id"
        f" WHERE d.status = 'submitted' AND l.item_id IS NOT NULL"
        for model, qty, sign in (
            ("opening_balance", "qty", 1),
            ("purchase_receipt", "base_qty", 1),
            ("sales_delivery", "base_qty", -1),
        )
    )
    with sqlite3.connect(made.db) as conn:
        documents = conn.execute(
            "SELECT (SELECT count(*) FROM opening_balance) + (SELECT count(*) FROM purchase_receipt)"
            " + (SELECT count(*) FROM sales_delivery) + (SELECT count(*) FROM payment)"
            " + (SELECT count(*) FROM purchase_order) + (SELECT count(*) FROM sales_order)"
        ).fetchone()[0]
        drafts = conn.execute("SELECT count(*) FROM sales_delivery WHERE status <> 'submitted'").fetchone()[0]
        wrong = conn.execute(
            f"SELECT b.item_id, b.qty, f.qty FROM stock_balance b JOIN (SELECT item_id, sum(qty) AS qty FROM ({flows})"
            " GROUP BY item_id) f ON f.item_id = b.item_id WHERE b.qty <> f.qty"
        ).fetchall()
        balances = conn.execute("SELECT count(*) FROM stock_balance WHERE qty > 0").fetchone()[0]
        low = conn.execute(
            "SELECT count(*) FROM stock_balance b JOIN item i ON i.id = b.item_id WHERE b.qty < i.reorder_point"
        ).fetchone()[0]
        receipts = conn.execute("SELECT count(*) FROM payment WHERE direction = 'receipt'").fetchone()[0]
    assert documents == posted > 100 and drafts == 0
    assert wrong == [] and balances == 50
    assert low > 0 and receipts > 0
    again = jxc("init", "--demo", "--history", instance=made, cwd=tmp_path)
    assert again.returncode == 0 and "演示单据" not in again.stdout
    refused = jxc("init", "--history", instance=made, cwd=tmp_path)
    assert refused.returncode == 2 and "--history 需要与 --demo 一起使用" in refused.stderr


def test_the_command_speaks_chinese_unless_the_operator_asks_for_english(instance: Instance, tmp_path: Path) -> None:
    """Every line `jxc` prints is in the product's language, zh, in a shell without a locale or a C one; English
    when LANG (or LC_ALL / LC_MESSAGES, which come first) is English, when JXC_LANG=en or `jxc --lang en`."""
    chinese = re.compile(r"^元数据正常：\d+ 个模型，7 个角色$", re.M)
    english = re.compile(r"^OK: \d+ models, 7 roles$", re.M)
    for locale, expected in (
        ({}, chinese),
        ({"LANG": "C.UTF-8"}, chinese),
        ({"LANG": "zh_CN.UTF-8"}, chinese),
        ({"LANG": "en_US.UTF-8"}, english),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "C"}, chinese),  # LC_ALL wins, and C asks for no language
        ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, english),
        ({"LANG": "en_US.UTF-8", "JXC_LANG": "zh"}, chinese),
        ({"JXC_LANG": "en"}, english),
    ):
        said = jxc("meta", "check", locale=locale)
        assert said.returncode == 0 and expected.search(said.stdout), (locale, said.stdout, said.stderr)
    assert english.search(jxc("--lang", "en", "meta", "check").stdout)

    added = jxc("user", "add", "u_tom", "--role", "clerk", "--password", "long-enough-1", instance=instance)
    assert added.returncode == 0, added.stderr[-2000:]
    assert added.stdout.strip() == "已创建用户 u_tom，角色：文员（无邮箱，定时报表和提醒不会发邮件给此用户）"
    again = jxc("user", "add", "u_tom", "--role", "clerk", "--password", "long-enough-1", instance=instance)
    assert again.returncode == 1 and again.stderr.strip() == "用户名「u_tom」已存在"
    told = jxc("--lang", "en", "user", "passwd", "u_tom", "--password", "Kite-Harbour-73", instance=instance)
    assert told.stdout.strip() == "Changed the password of u_tom; their sessions have ended", told.stderr
    changed = jxc("user", "passwd", "u_tom", "--password", "Kite-Harbour-74", instance=instance)
    assert changed.stdout.strip() == "已修改 u_tom 的密码，此用户的所有登录已失效", changed.stderr
    unknown = jxc("report", "run", "sales_analysis", "--user", "nobody", instance=instance)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "没有启用的用户 nobody"
    bad = jxc("export", "item", "items.csv", "--filter", "code", instance=instance)
    assert bad.returncode == 1 and bad.stderr.strip() == "--filter 应写成 字段=值，而不是「code」"
    jobs = jxc("jobs", instance=instance, locale={"LANG": "en_US.UTF-8"})
    assert jobs.stdout.startswith("Queued: 0  Running: 0"), jobs.stdout
    assert jxc("jobs", instance=instance).stdout.startswith("排队中: 0  运行中: 0")
    units = tmp_path / "units.csv"
    units.write_text("单位编码,单位名称\nLANG-BOX,箱\n", encoding="utf-8")
    dry = jxc("--lang", "en", "import", "unit", str(units), "--dry-run", instance=instance)  # not the user's zh
    assert re.fullmatch(r".+: 1 rows, created 1, updated 0, unchanged 0, skipped 0, errors 0.*", dry.stdout.strip())


def test_role_origin_links_an_old_copy_to_its_original(instance: Instance) -> None:
    """`jxc role origin NAME ORIGIN`: a copy made before 「Copy Role」 linked copies (same permissions, no link) is
    linked to salesperson, said in Chinese; again it changes nothing; a roles.yaml role is refused, saying why."""
    with sqlite3.connect(instance.db) as conn:
        role_id = conn.execute("INSERT INTO ab_role (name) VALUES ('salesperson old copy')").lastrowid
        conn.execute(
            "INSERT INTO ab_permission_view_role (permission_view_id, role_id) SELECT permission_view_id, ? FROM"
            " ab_permission_view_role WHERE role_id = (SELECT id FROM ab_role WHERE name = 'salesperson')",
            (role_id,),
        )
    done = jxc("role", "origin", "salesperson old copy", "salesperson", instance=instance)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == (
        "角色「salesperson old copy」已设为「销售员」的副本：其用户查看和填写的与「销售员」相同"
    )
    with sqlite3.connect(instance.db) as conn:
        assert conn.execute("SELECT origin FROM jxc_role_origin WHERE role_id = ?", (role_id,)).fetchone() == (
            "salesperson",
        )
    again = jxc("role", "origin", "salesperson old copy", "salesperson", instance=instance)
    assert again.stdout.strip() == "角色「salesperson old copy」已是「销售员」的副本，未作修改"
    refused = jxc("role", "origin", "clerk", "salesperson", instance=instance)
    assert refused.returncode == 1 and refused.stderr.strip().startswith("「clerk」是 roles.yaml 中的角色")


def test_commands_name_roles_and_job_kinds_as_the_pages_do(instance: Instance) -> None:
    """`jxc user add` says the role as the role pages do (仓管员; Warehouse keeper under --lang en), not its key;
    an unknown role lists the keys to type with their labels; `jxc jobs` names a job's kind as the jobs page does."""
    args = ("--password", "long-enough-1", "--email")
    made = jxc("user", "add", "u_wh1", "--role", "warehouse", *args, "wh1@example.com", instance=instance)
    assert made.returncode == 0, made.stderr[-2000:]
    assert made.stdout.strip() == "已创建用户 u_wh1，角色：仓管员"
    english = jxc("--lang", "en", "user", "add", "u_wh2", "--role", "warehouse", *args, "w2@a.cn", instance=instance)
    assert english.stdout.strip() == "Created user u_wh2 with role Warehouse keeper", english.stderr
    unknown = jxc("user", "add", "u_wh3", "--role", "storekeeper", *args, "wh3@example.com", instance=instance)
    assert unknown.returncode == 1 and "、salesperson（销售员）、" in unknown.stderr, unknown.stderr
    with sqlite3.connect(instance.db) as conn:
        conn.execute(
            "INSERT INTO jxc_job (kind, username, status, args, done, attempts, max_attempts, backend, "
            "cancel_requested, created_at) VALUES ('import', 'admin', 'done', '{}', 3, 1, 1, 'thread', 0, "
            "'2026-12-01 08:00:00')"
        )
    jobs = jxc("jobs", instance=instance).stdout.splitlines()
    assert any(" 已完成 " in line and " 导入 " in line and " import " not in line for line in jobs), jobs
    bad = jxc("report", "run", "sales_analysis", "--param", "by=year", instance=instance)
    assert bad.returncode == 1 and bad.stderr.startswith("报表「销售分析」："), bad.stderr


def test_help_speaks_the_commands_language() -> None:
    """`--help` is in the language every other line is in: Chinese by default (its own words too: 用法, 选项, 必填),
    English with `jxc --lang en` (before --help), JXC_LANG=en or an English shell."""
    chinese = jxc("--help")
    assert chinese.returncode == 0 and chinese.stdout.startswith("用法：jxc [OPTIONS] COMMAND"), chinese.stdout
    assert "选项：" in chinese.stdout and "命令：" in chinese.stdout and "显示此帮助并退出" in chinese.stdout
    assert "  init     创建或升级数据库、权限、角色和管理员用户" in chinese.stdout
    assert "Show this message" not in chinese.stdout and "Create or upgrade" not in chinese.stdout
    add = jxc("user", "add", "--help").stdout
    assert "用法：jxc user add [OPTIONS] USERNAME" in add and "warehouse（仓管员）" in add and "[必填]" in add, add
    assert "默认：admin" in jxc("import", "--help").stdout
    for english in (
        jxc("--lang", "en", "user", "add", "--help"),
        jxc("user", "add", "--help", locale={"JXC_LANG": "en"}),
        jxc("user", "add", "--help", locale={"LANG": "en_US.UTF-8"}),
    ):
        assert english.stdout.startswith("Usage: jxc user add [OPTIONS] USERNAME"), english.stdout
        assert "Create a user with a role" in english.stdout and "[required]" in english.stdout
        assert "显示" not in english.stdout
    assert "Options:" in jxc("--lang", "en", "--help").stdout
    missing = jxc("user", "add", "u_x")  # click's own errors too, with the usage and where help is
    assert missing.returncode == 2 and missing.stderr.splitlines() == [
        "用法：jxc user add [OPTIONS] USERNAME",
        "用 'jxc user add --help' 查看帮助。",
        "",
        "错误：缺少选项 --role",
    ], missing.stderr
    assert jxc("frob").stderr.endswith("错误：没有命令「frob」\n")
    typo = jxc("user", "passwd", "u_x", "--pasword", "p").stderr
    assert "错误：没有选项 --pasword（是不是要用 --password？）" in typo
    assert jxc("--lang", "fr", "jobs").stderr.endswith("错误：--lang 只能是：zh、en\n")
    assert jxc("serve", "--workers", "abc").stderr.endswith("错误：--workers 应为数字，而不是「abc」\n")
    english = jxc("--lang", "en", "user", "add", "u_x")
    assert english.returncode == 2 and english.stderr.endswith("Error: Missing option --role.\n"), english.stderr


def test_an_interrupted_start_and_clicks_own_prompts_speak_chinese(instance: Instance) -> None:
    """Ctrl-C while `jxc` is still loading says 已取消 (it was a traceback of the import it broke into), and click's
    own words in a command speak the command's language too: its prompts (请再输入一次确认, 两次输入的不一致, a
    confirmation's 请输入 y 或 n) and its errors (多余的参数), English with `--lang en` as before."""
    env = {k: v for k, v in instance.env.items() if k not in LOCALE_VARIABLES}

    def run(*argv: str, answers: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and command
            list(argv), cwd=ROOT, env=env, input=answers, capture_output=True, text=True, timeout=60, check=False
        )

    # SIGINT arrives while app.cli imports yaml, as a Ctrl-C pressed during the start would
    interrupted = run(
        str(ROOT / ".venv" / "bin" / "python"),
        "-c",
        "import os, signal, sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'yaml':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['jxc', 'jobs']\n"
        "from app.cli import main\n"
        "main()\n",
    )
    assert interrupted.returncode == 1 and interrupted.stderr.strip() == "已取消", interrupted.stderr

    def typed(*args: str, answers: str) -> subprocess.CompletedProcess[str]:
        return run(str(ROOT / ".venv" / "bin" / "jxc"), *args, answers=answers)

    differ = typed("user", "passwd", "u_x", answers="Kite-Harbour-73\nKite-Harbour-74\n")
    said = differ.stdout + differ.stderr
    assert "请再输入一次确认" in said and "错误：两次输入的不一致" in said, said
    assert "Repeat for confirmation" not in said and "do not match" not in said
    maybe = typed("restore", str(instance.path / "none.jxcbak"), answers="maybe\n")
    said = maybe.stdout + maybe.stderr
    assert "错误：请输入 y（是）或 n（否）" in said and said.rstrip().endswith("已取消"), said
    assert "invalid input" not in said and "Aborted!" not in said
    assert jxc("jobs", "extra").stderr.endswith("错误：多余的参数：extra\n")
    assert jxc("--lang", "en", "jobs", "extra").stderr.endswith("Error: Got unexpected extra argument (extra)\n")


def test_every_command_and_option_has_its_help_in_both_languages() -> None:
    """The help texts are the catalogue's (cli.help.jxc.<command>[.<option>]), in zh and en alike."""
    import click

    from app.cli import HELP, main
    from app.i18n import CATALOGUES

    def keys(command: click.Command, key: str) -> list[str]:
        found = [HELP + key]
        found += [HELP + f"{key}.{p.name}" for p in command.params if isinstance(p, click.Option)]
        for name, sub in getattr(command, "commands", {}).items():
            found += keys(sub, f"{key}.{name}")
        return found

    wanted = keys(main, "jxc")
    assert len(wanted) > 50
    for locale, catalogue in CATALOGUES.items():
        assert [k for k in wanted if not catalogue.get(k)] == [], locale
