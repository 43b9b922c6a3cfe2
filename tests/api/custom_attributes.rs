use serde_json::json;

use crate::helpers::{error_of, spawn_app};

#[tokio::test]
async fn a_definition_is_created_listed_by_model_and_deleted() {
    let app = spawn_app().await;
    let path = "/api/v1/accounts/1/custom_attribute_definitions";
    let plan = app
        .post(
            path,
            json!({ "attribute_display_name": "Plan", "attribute_key": "plan", "attribute_display_type": "list",
                    "attribute_values": ["free", "pro"], "attribute_description": "Billing plan" }),
        )
        .await
        .expect(200);
    assert_eq!(plan["id"], 1);
    assert_eq!(plan["attribute_key"], "plan");
    assert_eq!(plan["attribute_display_type"], "list");
    assert_eq!(plan["attribute_model"], "conversation_attribute");
    assert_eq!(plan["attribute_values"], json!(["free", "pro"]));
    assert_eq!(plan["default_value"], json!(null));
    assert!(plan["created_at"].as_str().unwrap().ends_with('Z'));
    app.post(
        path,
        json!({ "attribute_display_name": "Age", "attribute_key": "age", "attribute_display_type": 1, "attribute_model": "contact_attribute" }),
    )
    .await
    .expect(200);

    assert_eq!(app.get(path).await.expect(200).as_array().unwrap().len(), 2);
    let contact_only = app
        .get(&format!("{path}?attribute_model=contact_attribute"))
        .await
        .expect(200);
    assert_eq!(contact_only.as_array().unwrap().len(), 1);
    assert_eq!(contact_only[0]["attribute_display_type"], "number");
    let by_code = app
        .get(&format!("{path}?attribute_model=0"))
        .await
        .expect(200);
    assert_eq!(by_code[0]["attribute_key"], "plan");

    let updated = app
        .patch(
            &format!("{path}/1"),
            json!({ "attribute_display_name": "Plan tier" }),
        )
        .await
        .expect(200);
    assert_eq!(updated["attribute_display_name"], "Plan tier");
    assert_eq!(updated["attribute_key"], "plan");

    assert_eq!(app.delete(&format!("{path}/1")).await.status, 204);
    app.get(&format!("{path}/1")).await.expect(404);
}

#[tokio::test]
async fn definition_keys_are_validated() {
    let app = spawn_app().await;
    let path = "/api/v1/accounts/1/custom_attribute_definitions";
    let with_key = |key: &str| json!({ "attribute_display_name": "X", "attribute_key": key });
    for bad in ["has space", "dash-ed", "ü", &"k".repeat(65), "a.b"] {
        let body = app.post(path, with_key(bad)).await.expect(422);
        assert_eq!(body["attributes"], json!(["attribute_key"]), "{bad}");
    }
    app.post(path, with_key(&"k".repeat(64))).await.expect(200);
    let body = app.post(path, with_key("status")).await.expect(422);
    assert!(body["message"].as_str().unwrap().contains("not allowed"));
    app.post(path, with_key("tier_2")).await.expect(200);
    let body = app.post(path, with_key("tier_2")).await.expect(422);
    assert_eq!(body["message"], "Attribute key has already been taken");
    // The same key may exist once per model.
    let mut contact = with_key("tier_2");
    contact["attribute_model"] = json!("contact_attribute");
    app.post(path, contact).await.expect(200);
    let body = app
        .post(path, json!({ "attribute_key": "nameless" }))
        .await
        .expect(422);
    assert_eq!(body["message"], "Attribute display name can't be blank");
    let mut bad_type = with_key("typed");
    bad_type["attribute_display_type"] = json!("colour");
    assert!(
        error_of(&app.post(path, bad_type).await.expect(422)).contains("attribute_display_type")
    );
    app.get(&format!("{path}?attribute_model=widget_attribute"))
        .await
        .expect(422);
}
