//! Input checks for new provisions: every rule gives a message saying what to fix, and
//! nothing is stored when one fails.

use chrono::Utc;

use super::super::{EngineError, NewProvision};
use crate::model::*;

/// Longest customer name accepted (vendor object names are derived from it).
pub const MAX_NAME_CHARS: usize = 100;

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

/// Check `req` against `tier` and build the provision's initial state.
pub(crate) fn new_state(
    req: NewProvision,
    tier: Tier,
    tlds: &zapmail::SupportedTlds,
) -> Result<ProvisionState, EngineError> {
    let name = req.customer_name.trim().to_string();
    if name.is_empty() {
        return Err(invalid("the customer name is empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "the customer name is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("the customer name contains control characters"));
    }
    let email = req.customer_email.trim().to_ascii_lowercase();
    check_email(&email)?;

    let mut words = name.split_whitespace();
    // The first word is the first name unless overridden; the rest is the last name either
    // way (overriding "Tim" with "Timothy" keeps "Keen").
    let first_word = words.next().unwrap_or_default().to_string();
    let first = req
        .first_name
        .map(|s| s.trim().to_string())
        .unwrap_or(first_word);
    let last = req
        .last_name
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| words.collect::<Vec<_>>().join(" "));
    if first.is_empty() {
        return Err(invalid("the sender first name is empty"));
    }
    let last = if last.is_empty() { first.clone() } else { last };

    if tier.domain_count == 0 || tier.mailboxes_per_domain == 0 {
        return Err(invalid(format!(
            "tier {:?} has no domains or no mailboxes per domain",
            tier.slug
        )));
    }
    let domains = check_domains(&req.domains, tier.domain_count as usize, tlds)?;
    let patterns = check_patterns(&req.patterns, tier.mailboxes_per_domain as usize)?;

    let now = Utc::now();
    let id = ProvisionId::new();
    Ok(ProvisionState {
        id,
        customer: Customer {
            id: req.customer_id.unwrap_or_default(),
            name,
            email,
            first_name: first,
            last_name: last,
        },
        tier_id: tier.id,
        tier,
        status: ProvisionStatus::PendingPayment,
        domains: domains
            .into_iter()
            .map(|d| domain_record(&d, &patterns, None))
            .collect(),
        mailbox_patterns: patterns,
        payment: Payment::default(),
        ledger: Ledger::default(),
        provisioning_log: Vec::new(),
        run: None,
        flags: Vec::new(),
        created_at: now,
        updated_at: now,
    })
}

/// A new domain row with its planned mailboxes.
pub(crate) fn domain_record(
    name: &str,
    patterns: &[String; 2],
    run: Option<RunId>,
) -> DomainRecord {
    DomainRecord {
        id: uuid::Uuid::new_v4(),
        name: name.to_string(),
        status: DomainStatus::Pending,
        zapmail_domain_id: None,
        mailboxes: patterns
            .iter()
            .map(|p| MailboxRecord {
                username: p.clone(),
                email: format!("{p}@{name}"),
                zapmail_mailbox_id: None,
                plusvibe_account_id: None,
            })
            .collect(),
        purchase: PurchaseState::NotSent,
        added_by: run,
    }
}

fn check_email(email: &str) -> Result<(), EngineError> {
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, host)| {
            !local.is_empty()
                && !host.contains('@')
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && email.chars().all(|c| c.is_ascii_graphic())
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{:?} is not a valid email address",
            shorten(email)
        )))
    }
}

/// Normalise and check chosen domains: syntax, supported TLD, no duplicates, the tier's count.
pub(crate) fn check_domains(
    domains: &[String],
    expected: usize,
    tlds: &zapmail::SupportedTlds,
) -> Result<Vec<String>, EngineError> {
    let mut out: Vec<String> = Vec::with_capacity(domains.len());
    for raw in domains {
        let d = tlds
            .check(raw)
            .map_err(|e| invalid(format!("domain {:?}: {e}", shorten(raw))))?;
        if out.contains(&d) {
            return Err(invalid(format!("domain {d:?} is listed twice")));
        }
        out.push(d);
    }
    if out.len() != expected {
        return Err(invalid(format!(
            "the tier needs exactly {expected} domains, {} were given",
            out.len()
        )));
    }
    Ok(out)
}

fn check_patterns(patterns: &[String; 2], per_domain: usize) -> Result<[String; 2], EngineError> {
    if per_domain != 2 {
        return Err(invalid(format!(
            "tiers with {per_domain} mailboxes per domain are not supported yet (the patterns give 2)"
        )));
    }
    let mut out = [String::new(), String::new()];
    for (i, p) in patterns.iter().enumerate() {
        let p = p.trim().to_ascii_lowercase();
        zapmail::validate::validate_mailbox_username(&p).map_err(|e| {
            invalid(format!(
                "mailbox pattern {} ({:?}): {e}",
                i + 1,
                shorten(&p)
            ))
        })?;
        out[i] = p;
    }
    if out[0] == out[1] {
        return Err(invalid("the two mailbox patterns are the same"));
    }
    Ok(out)
}

/// Input quoted in an error message, cut to 64 characters (a megabyte of input must not
/// become a megabyte of error).
fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}… ({} characters)", s.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starter() -> Tier {
        Tier::seed_defaults().remove(0)
    }

    fn req() -> NewProvision {
        NewProvision::new("Tim Keen", "tim@acme.example", "starter")
            .domains(["a1.com", "a2.net", "a3.org"])
            .patterns("tim", "tim.keen")
    }

    #[test]
    fn sender_names_come_from_the_customer_name_and_overrides() {
        let tlds = zapmail::SupportedTlds::default();
        let s = new_state(req(), starter(), &tlds).unwrap();
        assert_eq!(
            (
                s.customer.first_name.as_str(),
                s.customer.last_name.as_str()
            ),
            ("Tim", "Keen")
        );
        let mut r = req();
        r.first_name = Some("Timothy".into());
        let s = new_state(r, starter(), &tlds).unwrap();
        assert_eq!(
            (
                s.customer.first_name.as_str(),
                s.customer.last_name.as_str()
            ),
            ("Timothy", "Keen")
        );
        let mut r = req();
        r.customer_name = "Cher".into();
        let s = new_state(r, starter(), &tlds).unwrap();
        assert_eq!(
            (
                s.customer.first_name.as_str(),
                s.customer.last_name.as_str()
            ),
            ("Cher", "Cher")
        );
    }
}
