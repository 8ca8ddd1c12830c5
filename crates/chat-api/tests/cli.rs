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

/// Logs in over the service layer the binary uses, without a server.
async fn can_log_in(db: &TestDatabase, email: &str, password: &str) -> bool {
    let store = chat_store::SeaOrmStore::connect(&chat_store::StoreSettings::new(db.url.clone()))
        .await
        .expect("connect");
    let repos = chat_service::Repositories::from_store(std::sync::Arc::new(store));
    let auth = chat_service::AuthService::new(repos, chat_service::AuthSettings::default())
        .await
        .expect("auth");
    auth.login(email, password, "127.0.0.1").await.is_ok()
}

#[tokio::test]
async fn the_operator_lists_promotes_deactivates_and_resets_agents() {
    let db = TestDatabase::create(Backend::from_env()).await;
    assert!(run(&db, &["migrate"]).status.success());
    assert!(
        run(&db, &["tenant", "create", "acme", "--name", "Acme"])
            .status
            .success()
    );
    for (email, role) in [("ada@acme.test", "admin"), ("bob@acme.test", "agent")] {
        let made = run(
            &db,
            &[
                "agent",
                "create",
                "--tenant",
                "acme",
                "--email",
                email,
                "--name",
                email,
                "--password",
                "first password",
                "--role",
                role,
            ],
        );
        assert!(made.status.success(), "{}", text(&made.stderr));
    }

    let list = run(&db, &["agent", "list", "--tenant", "acme"]);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let out = text(&list.stdout);
    assert!(out.contains("ada@acme.test\tadmin\tactive"), "{out}");
    assert!(out.contains("bob@acme.test\tagent\tactive"), "{out}");

    // The last admin stays one.
    let demote = run(
        &db,
        &[
            "agent",
            "set-role",
            "--tenant",
            "acme",
            "--email",
            "ada@acme.test",
            "agent",
        ],
    );
    assert!(!demote.status.success());
    assert!(
        text(&demote.stderr).contains("last active admin"),
        "{}",
        text(&demote.stderr)
    );
    let promote = run(
        &db,
        &[
            "agent",
            "set-role",
            "--tenant",
            "acme",
            "--email",
            "bob@acme.test",
            "admin",
        ],
    );
    assert!(promote.status.success(), "{}", text(&promote.stderr));
    assert!(text(&promote.stdout).contains("bob@acme.test is now admin"));

    assert!(can_log_in(&db, "ada@acme.test", "first password").await);
    let off = run(
        &db,
        &[
            "agent",
            "deactivate",
            "--tenant",
            "acme",
            "--email",
            "ada@acme.test",
        ],
    );
    assert!(off.status.success(), "{}", text(&off.stderr));
    assert!(!can_log_in(&db, "ada@acme.test", "first password").await);
    let list = text(&run(&db, &["agent", "list", "--tenant", "acme"]).stdout);
    assert!(list.contains("ada@acme.test\tadmin\tdeactivated"), "{list}");
    let on = run(
        &db,
        &[
            "agent",
            "activate",
            "--tenant",
            "acme",
            "--email",
            "ada@acme.test",
        ],
    );
    assert!(on.status.success());
    assert!(can_log_in(&db, "ada@acme.test", "first password").await);

    let reset = Command::new(env!("CARGO_BIN_EXE_chat-api"))
        .args([
            "agent",
            "reset-password",
            "--tenant",
            "acme",
            "--email",
            "bob@acme.test",
        ])
        .env("CHAT__DATABASE__URL", &db.url)
        .env("CHAT_CONFIG", "/nonexistent/chat.toml")
        .env("CHAT_NEW_PASSWORD", "second password")
        .output()
        .expect("output");
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    assert!(!text(&reset.stdout).contains("second password"));
    assert!(!can_log_in(&db, "bob@acme.test", "first password").await);
    assert!(can_log_in(&db, "bob@acme.test", "second password").await);

    let nobody = run(
        &db,
        &[
            "agent",
            "deactivate",
            "--tenant",
            "acme",
            "--email",
            "zed@acme.test",
        ],
    );
    assert!(!nobody.status.success());
    assert!(
        text(&nobody.stderr).contains("not found"),
        "{}",
        text(&nobody.stderr)
    );
}
