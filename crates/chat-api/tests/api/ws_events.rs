//! Every event reaches exactly the right sockets: two tenants, two agents
//! with several tabs, several customers with several tabs.
//!
//! Sockets that must not receive an event are checked with a fence: a later
//! event that does reach them. The hub handles commands in order, so if the
//! first thing such a socket sees is the fence, the event never came.

use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, WsClient, spawn_app};

struct World {
    app: TestApp,
    alex: TestAgent,
    bea: TestAgent,
    gil: TestAgent,
    /// Alex's two tabs, Bea's tab.
    alex_tabs: [WsClient; 2],
    bea_tab: WsClient,
    /// The other tenant's agent.
    gil_tab: WsClient,
    /// Acme session 1 with two customer tabs, session 2 with one.
    s1: String,
    s1_key: String,
    s1_tabs: [WsClient; 2],
    s2: String,
    s2_tab: WsClient,
    /// Globex session.
    s3: String,
    s3_tab: WsClient,
}

async fn world() -> World {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let alex = app.create_agent("acme", "alex@acme.test", "Alex").await;
    let bea = app.create_agent("acme", "bea@acme.test", "Bea").await;
    let gil = app.create_agent("globex", "gil@globex.test", "Gil").await;
    let (s1_key, s1) = app.start_session("acme", "Ada").await;
    let (s2_key, s2) = app.start_session("acme", "Bob").await;
    let (s3_key, s3) = app.start_session("globex", "Cyd").await;
    World {
        alex_tabs: [app.agent_ws(&alex).await, app.agent_ws(&alex).await],
        bea_tab: app.agent_ws(&bea).await,
        gil_tab: app.agent_ws(&gil).await,
        s1_tabs: [
            app.customer_ws(&s1_key).await,
            app.customer_ws(&s1_key).await,
        ],
        s2_tab: app.customer_ws(&s2_key).await,
        s3_tab: app.customer_ws(&s3_key).await,
        app,
        alex,
        bea,
        gil,
        s1,
        s1_key,
        s2,
        s3,
    }
}

impl World {
    fn acme_agents(&mut self) -> [&mut WsClient; 3] {
        let [a1, a2] = &mut self.alex_tabs;
        [a1, a2, &mut self.bea_tab]
    }

    /// Proves that the sockets outside acme session 1 got nothing: a
    /// message in s2 and in s3 must be the first thing they see.
    async fn fence_others(&mut self) {
        self.app.agent_message(&self.gil, &self.s3, "fence-3").await;
        let gil_sees = self.gil_tab.expect("chat.message.new").await;
        assert_eq!(gil_sees["body"], "fence-3");
        assert_eq!(
            self.s3_tab.expect("chat.message.new").await["body"],
            "fence-3"
        );
        self.app.agent_message(&self.bea, &self.s2, "fence-2").await;
        assert_eq!(
            self.s2_tab.expect("chat.message.new").await["body"],
            "fence-2"
        );
        for tab in self.acme_agents() {
            assert_eq!(tab.expect("chat.message.new").await["body"], "fence-2");
        }
    }
}

#[tokio::test]
async fn a_new_session_is_announced_to_its_tenants_agents_only() {
    let mut w = world().await;
    let (_, sid) = w.app.start_session("acme", "Dee").await;
    for tab in w.acme_agents() {
        let p = tab.expect("chat.session.started").await;
        assert_eq!(p["id"], sid.as_str());
        assert_eq!(p["customer"]["name"], "Dee");
    }
    let (_, gsid) = w.app.start_session("globex", "Eve").await;
    assert_eq!(
        w.gil_tab.expect("chat.session.started").await["id"],
        gsid.as_str()
    );
}

#[tokio::test]
async fn a_customer_message_reaches_the_tenants_agents_and_its_own_tabs_only() {
    let mut w = world().await;
    w.app
        .post_message(&w.s1_key, "hello from Ada", Some("c-1"))
        .await;
    let s1 = w.s1.clone();
    for tab in w.acme_agents() {
        let p = tab.expect("chat.message.new").await;
        assert_eq!(p["body"], "hello from Ada");
        assert_eq!(p["session_id"], s1.as_str());
        assert_eq!(p["seq"], 1);
        assert_eq!(p["sender_type"], "customer");
        assert_eq!(p["client_msg_id"], "c-1");
        assert!(p["id"].is_string() && p["created_at"].is_string() && p["sender_name"] == "Ada");
    }
    for tab in &mut w.s1_tabs {
        assert_eq!(
            tab.expect("chat.message.new").await["body"],
            "hello from Ada"
        );
    }
    w.fence_others().await;
}

#[tokio::test]
async fn an_agent_reply_reaches_the_customers_tabs_and_the_agents() {
    let mut w = world().await;
    w.app.agent_message(&w.alex, &w.s1, "hi Ada").await;
    for tab in &mut w.s1_tabs {
        let p = tab.expect("chat.message.new").await;
        assert_eq!(
            (p["body"].as_str(), p["sender_type"].as_str()),
            (Some("hi Ada"), Some("agent"))
        );
    }
    for tab in w.acme_agents() {
        assert_eq!(tab.expect("chat.message.new").await["sender_name"], "Alex");
    }
    w.fence_others().await;
}

#[tokio::test]
async fn assignment_and_transfer_tell_the_tenant_the_new_agent_and_the_customer() {
    let mut w = world().await;
    let path = format!("/api/v1/chat/sessions/{}/assign", w.s1);
    w.app.agent_post(&w.alex.token, &path, None).await;
    let (s1, alex_id) = (w.s1.clone(), w.alex.id.clone());
    for tab in w.acme_agents() {
        let p = tab.expect("chat.session.assigned").await;
        assert_eq!(
            (p["session_id"].as_str(), p["agent_name"].as_str()),
            (Some(s1.as_str()), Some("Alex"))
        );
    }
    for tab in &mut w.alex_tabs {
        assert_eq!(tab.expect("chat.agent.joined").await["agent_name"], "Alex");
    }
    for tab in &mut w.s1_tabs {
        let assigned = tab.expect("chat.session.assigned").await;
        assert_eq!(assigned["session"]["assigned_agent_name"], "Alex");
        assert!(
            assigned["session"]
                .get("customer")
                .is_some_and(|c| c.get("attributes").is_none())
        );
        assert_eq!(tab.expect("chat.agent.joined").await["agent_name"], "Alex");
    }

    // Transfer to Bea: both events again, for Bea.
    w.app
        .agent_post(&w.alex.token, &path, Some(&json!({ "agent_id": w.bea.id })))
        .await;
    for tab in w.acme_agents() {
        let p = tab.expect("chat.session.assigned").await;
        assert_eq!(
            (p["agent_name"].as_str(), p["previous_agent_id"].as_str()),
            (Some("Bea"), Some(alex_id.as_str()))
        );
    }
    assert_eq!(
        w.bea_tab.expect("chat.agent.joined").await["agent_name"],
        "Bea"
    );
    for tab in &mut w.s1_tabs {
        tab.expect("chat.session.assigned").await;
        assert_eq!(tab.expect("chat.agent.joined").await["agent_name"], "Bea");
    }
    // Alex's tabs got no second chat.agent.joined: the fence comes first.
    w.fence_others().await;
}

#[tokio::test]
async fn close_and_reopen_reach_the_agents_and_the_customer() {
    let mut w = world().await;
    let s1 = w.s1.clone();
    for (action, kind, status) in [
        ("close", "chat.session.closed", "closed"),
        ("reopen", "chat.session.reopened", "pending"),
    ] {
        w.app
            .agent_post(
                &w.bea.token,
                &format!("/api/v1/chat/sessions/{}/{action}", w.s1),
                None,
            )
            .await;
        for tab in w.acme_agents() {
            assert_eq!(tab.expect(kind).await["status"], status);
        }
        for tab in &mut w.s1_tabs {
            assert_eq!(tab.expect(kind).await["session_id"], s1.as_str());
        }
    }
    w.fence_others().await;
}

#[tokio::test]
async fn typing_is_relayed_between_the_customer_and_the_agents() {
    let mut w = world().await;
    w.s1_tabs[0]
        .send("chat.typing", json!({ "is_typing": true }))
        .await;
    let s1 = w.s1.clone();
    for tab in w.acme_agents() {
        let p = tab.expect("chat.typing").await;
        assert_eq!(
            p,
            json!({ "session_id": s1, "sender_type": "customer", "name": "Ada", "is_typing": true })
        );
    }
    w.bea_tab
        .send(
            "chat.typing",
            json!({ "session_id": w.s1, "is_typing": true }),
        )
        .await;
    for tab in &mut w.s1_tabs {
        let p = tab.expect("chat.typing").await;
        assert_eq!(
            (p["sender_type"].as_str(), p["name"].as_str()),
            (Some("agent"), Some("Bea"))
        );
    }
    for tab in w.acme_agents() {
        assert_eq!(tab.expect("chat.typing").await["name"], "Bea");
    }
    w.fence_others().await;
}

#[tokio::test]
async fn presence_changes_when_an_agents_first_socket_opens_and_last_closes() {
    let mut w = world().await;
    let nia = w.app.create_agent("acme", "nia@acme.test", "Nia").await;
    let tab1 = w.app.agent_ws(&nia).await;
    let presence = |f: Value| {
        (
            f["type"].clone(),
            f["payload"]["name"].clone(),
            f["payload"]["online"].clone(),
        )
    };
    // Bea's tab first heard of its own arrival.
    assert_eq!(
        presence(w.bea_tab.next_frame().await),
        (json!("agent.presence"), json!("Bea"), json!(true))
    );
    assert_eq!(
        presence(w.bea_tab.next_frame().await),
        (json!("agent.presence"), json!("Nia"), json!(true))
    );
    let tab2 = w.app.agent_ws(&nia).await;
    drop(tab1);
    drop(tab2);
    // The second tab opening and the first closing announce nothing; the
    // last one closing announces offline.
    assert_eq!(
        presence(w.bea_tab.next_frame().await),
        (json!("agent.presence"), json!("Nia"), json!(false))
    );
    let agents: Value = crate::helpers::ok(
        w.app
            .agent_get(&w.bea.token, "/api/v1/agents")
            .await
            .json()
            .await,
    );
    let online: Vec<(&str, bool)> = agents["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a["name"].as_str()?, a["online"].as_bool()?)))
        .collect();
    assert_eq!(online, vec![("Alex", true), ("Bea", true), ("Nia", false)]);
    // Other tenants hear nothing of it: Gil's tab saw only its own arrival
    // before the fence.
    w.app.start_session("globex", "Zed").await;
    assert_eq!(
        presence(w.gil_tab.next_frame().await),
        (json!("agent.presence"), json!("Gil"), json!(true))
    );
    assert_eq!(w.gil_tab.next_frame().await["type"], "chat.session.started");
}
