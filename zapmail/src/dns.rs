//! DNS records of a domain (§6.12).

use serde::{Deserialize, Serialize};
use vendor_http::{Request, Result};

use crate::client::resource;
use crate::types::{DnsRecordId, DomainId, de_count, de_null_default, open_enum};
use crate::{Ack, Error, VENDOR};

resource!(
    /// DNS records: `GET /v2/dns/?id=`, `POST /v2/dns`.
    Dns
);

open_enum!(
    /// A DNS record type.
    DnsRecordType {
        /// IPv4 address.
        A => "A",
        /// IPv6 address.
        Aaaa => "AAAA",
        /// Alias.
        Cname => "CNAME",
        /// Mail exchanger.
        Mx => "MX",
        /// Text (SPF, DKIM, DMARC, verification).
        Txt => "TXT",
        /// Name server.
        Ns => "NS",
        /// Service.
        Srv => "SRV",
        /// Certificate authority authorization.
        Caa => "CAA",
    }
);

/// A DNS record. Two shapes are seen (`host/value/recordType` and the older
/// `name/content/type`); the accessors read whichever is present.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecord {
    /// Id.
    #[serde(default)]
    pub id: Option<DnsRecordId>,
    /// The domain.
    #[serde(default)]
    pub assigned_domain_id: Option<DomainId>,
    /// Type (current shape).
    #[serde(default)]
    pub record_type: Option<DnsRecordType>,
    /// Host (current shape), e.g. `@` or `track`.
    #[serde(default)]
    pub host: Option<String>,
    /// Value (current shape).
    #[serde(default)]
    pub value: Option<String>,
    /// Type (older shape).
    #[serde(default, rename = "type")]
    pub type_: Option<DnsRecordType>,
    /// Name (older shape).
    #[serde(default)]
    pub name: Option<String>,
    /// Content (older shape).
    #[serde(default)]
    pub content: Option<String>,
    /// MX priority.
    #[serde(default, deserialize_with = "de_count")]
    pub priority: Option<u64>,
    /// TTL.
    #[serde(default, deserialize_with = "de_count")]
    pub ttl: Option<u64>,
}

impl DnsRecord {
    /// The record type, from either shape.
    pub fn kind(&self) -> Option<&DnsRecordType> {
        self.record_type.as_ref().or(self.type_.as_ref())
    }
    /// The host, from either shape.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref().or(self.name.as_deref())
    }
    /// The value, from either shape.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref().or(self.content.as_deref())
    }
}

/// A domain's records: `data.domainDnsRecords[]` (or `data.records[]` +
/// `disabledRecords[]` in an older shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecords {
    /// Records (current shape).
    #[serde(default, deserialize_with = "de_null_default")]
    pub domain_dns_records: Vec<DnsRecord>,
    /// Records (older shape).
    #[serde(default, deserialize_with = "de_null_default")]
    pub records: Vec<DnsRecord>,
    /// Disabled records (older shape).
    #[serde(default, deserialize_with = "de_null_default")]
    pub disabled_records: Vec<DnsRecord>,
}

impl DnsRecords {
    /// The active records, from either shape.
    pub fn all(&self) -> impl Iterator<Item = &DnsRecord> {
        self.domain_dns_records.iter().chain(self.records.iter())
    }
}

/// One record to add (no TTL field exists, §6.12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDnsRecord {
    /// Host, e.g. `@` or `track`.
    pub host: String,
    /// Value.
    pub value: String,
    /// Type.
    pub record_type: DnsRecordType,
}

/// Body of `POST /v2/dns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddDnsRecordsRequest {
    /// The domain.
    pub assigned_domain_id: DomainId,
    /// Records to add (non-empty).
    pub records: Vec<NewDnsRecord>,
}

impl Dns<'_> {
    /// The records of a domain (`GET /v2/dns/?id=`; the trailing slash is what clients
    /// use). Can be slow (seconds).
    pub async fn get(&self, domain_id: &DomainId) -> Result<DnsRecords> {
        let req = Request::get("/v2/dns/").query("id", domain_id).idempotent();
        self.scope.data(req).await
    }

    /// Add records (`POST /v2/dns`). Creates records, so it is never retried once sent.
    /// Records can race zone creation: add them once the domain is `ACTIVE`.
    pub async fn add(&self, req: &AddDnsRecordsRequest) -> Result<Ack> {
        if req.records.is_empty() {
            return Err(Error::invalid_input(VENDOR, "no DNS records to add"));
        }
        if let Some(r) = req
            .records
            .iter()
            .find(|r| r.host.trim().is_empty() || r.value.trim().is_empty())
        {
            return Err(Error::invalid_input(
                VENDOR,
                format!("DNS record {r:?}: host and value are required"),
            ));
        }
        self.scope
            .ack(Request::post("/v2/dns").json(req).non_idempotent())
            .await
    }
}
