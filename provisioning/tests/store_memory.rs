//! The store contract on the in-memory backend.

#[tokio::test]
async fn memory_store_passes_the_contract() {
    let store = provisioning::MemoryStore::new();
    provisioning::store::contract::run_all(&store).await;
}
