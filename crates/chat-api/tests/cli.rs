//! The admin subcommands of the real binary, against a fresh database.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::process::{Command, Output};

use chat_store::testing::{Backend, TestDatabase};

fn run(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chat-api"))
        .args(args)
        .env("CHAT__DATABASE__URL", &db.url)
        .env("CHAT_CONFIG", "/nonexistent/chat.toml")
        .output()
        .expect("output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn tenant_and_agent_creation_print_what_they_made_and_refuse_duplicates() {
    let db = TestDatabase::create(Backend::from_env()).await;
    let migrated = run(&db, &["migrate"]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));

    let made = run(
        &db,
        &[
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme Inc",
            "--allowed-origin",
            "https://acme.test",
        ],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(
        text(&made.stdout).contains("created tenant acme (Acme Inc)"),
        "{}",
        text(&made.stdout)
    );
    assert!(text(&made.stdout).contains("https://acme.test"));

    let again = run(&db, &["tenant", "create", "acme", "--name", "Other"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );

    let agent = [
        "agent",
        "create",
        "--tenant",
        "acme",
        "--email",
        "boss@acme.test",
        "--name",
        "Boss",
        "--password",
        "long enough",
        "--role",
        "admin",
    ];
    let made = run(&db, &agent);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(text(&made.stdout).contains("created admin Boss <boss@acme.test> in tenant acme"));
    let dup = run(&db, &agent);
    assert!(!dup.status.success());
    assert!(text(&dup.stderr).contains("already exists"));
}

#[tokio::test]
async fn bad_input_exits_non_zero_with_a_clear_message() {
    let db = TestDatabase::create(Backend::from_env()).await;
    let cases: [(&[&str], &str); 4] = [
        (
            &["tenant", "create", "Bad Slug", "--name", "x"],
            "tenant_id",
        ),
        (
            &[
                "tenant",
                "create",
                "ok-slug",
                "--name",
                "x",
                "--allowed-origin",
                "not a url",
            ],
            "allowed_origin",
        ),
        (
            &[
                "agent",
                "create",
                "--tenant",
                "missing",
                "--email",
                "a@b.test",
                "--name",
                "A",
                "--password",
                "long enough",
            ],
            "tenant not found",
        ),
        (
            &[
                "agent",
                "create",
                "--tenant",
                "missing",
                "--email",
                "a@b.test",
                "--name",
                "A",
                "--password",
                "x",
                "--role",
                "root",
            ],
            "role",
        ),
    ];
    for (args, expected) in cases {
        let out = run(&db, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test]
async fn kb_import_reads_jsonl_and_markdown_folders_and_set_bot_switches_the_mode() {
    let db = TestDatabase::create(Backend::from_env()).await;
    assert!(
        run(&db, &["tenant", "create", "acme", "--name", "Acme"])
            .status
            .success()
    );
    let dir = std::env::temp_dir().join(format!("kb-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("md")).expect("fs::create_dir_all");
    let jsonl = dir.join("a.jsonl");
    std::fs::write(&jsonl, "{\"title\":\"Hours\",\"body\":\"Open 9-5.\",\"keywords\":[\"hours\"]}\n\n{\"title\":\"Refunds\",\"body\":\"Within 30 days.\"}\n")
        .expect("fs::write");
    std::fs::write(
        dir.join("md/shipping.md"),
        "# Shipping\nWe ship in 2 days.\n",
    )
    .expect("fs::write");
    std::fs::write(dir.join("md/notes.txt"), "ignored").expect("fs::write");

    let out = run(
        &db,
        &["kb", "import", "acme", jsonl.to_str().unwrap_or_default()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 2 articles"),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        &db,
        &[
            "kb",
            "import",
            "acme",
            dir.join("md").to_str().unwrap_or_default(),
        ],
    );
    assert!(
        text(&out.stdout).contains("imported 1 articles"),
        "{}",
        text(&out.stdout)
    );

    std::fs::write(&jsonl, "{\"title\":\"\",\"body\":\"x\"}\n").expect("fs::write");
    let bad = run(
        &db,
        &["kb", "import", "acme", jsonl.to_str().unwrap_or_default()],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("line 1"),
        "{}",
        text(&bad.stderr)
    );

    let set = run(
        &db,
        &[
            "tenant",
            "set-bot",
            "acme",
            "knowledge_base",
            "--name",
            "Robo",
        ],
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(text(&set.stdout).contains("knowledge_base"));
    let wrong = run(&db, &["tenant", "set-bot", "acme", "psychic"]);
    assert!(!wrong.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
