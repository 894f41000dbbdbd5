//! The seed's deterministic domain suggestions (seed-design.md, "AI Domain Suggestion
//! Algorithm"), reproduced step by step, then filtered to what Zapmail can sell.

use zapmail::SupportedTlds;

use super::WizardError;

const PREFIXES: [&str; 8] = ["get", "try", "use", "go", "hey", "meet", "with", "join"];
const SUFFIXES: [&str; 7] = ["hq", "app", "mail", "team", "co", "now", "pro"];
const SEED_TLDS: [&str; 3] = ["com", "io", "net"];

/// The seed's `clean`: `brandName.toLowerCase().replace(/[^a-z0-9]/g, '')`.
/// Rust's `to_lowercase` applies the same Unicode default case mapping as JavaScript's
/// `toLowerCase` (e.g. `İ` → `i̇`, whose combining dot the filter then drops).
fn clean(brand: &str) -> String {
    brand
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .collect()
}

/// The seed's `suggestDomains(brandName)`, unfiltered and in the seed's order:
/// `brand.{com,io,net}`; the eight prefixes + `brand.com`; `brand` + the seven suffixes
/// `.com`; `brand-{hq,app,mail,team}.com`; `{get,try,use}brand.{io,net}`
/// (`prefixes.slice(0, 3)` × `tlds.slice(1)`); then de-duplicated keeping first
/// occurrences (the seed's `[...new Set(...)]`). 28 names.
///
/// Note: the seed's prose ("User Flow") also mentions `get-acme.com`; its code, which this
/// follows, only hyphenates suffixes.
///
/// Unlike the seed, a brand with no letters or digits is an error rather than `.com`.
pub fn seed_suggestions(brand: &str) -> Result<Vec<String>, WizardError> {
    let clean = clean(brand);
    if clean.is_empty() {
        return Err(WizardError::InvalidBrand(if brand.trim().is_empty() {
            "the brand name is empty; enter your company or brand name".to_string()
        } else {
            format!(
                "the brand name {brand:?} has no letters a-z or digits to build domain names from"
            )
        }));
    }
    let mut suggestions: Vec<String> = Vec::with_capacity(28);
    // brand.tld variations
    for tld in SEED_TLDS {
        suggestions.push(format!("{clean}.{tld}"));
    }
    // prefix + brand.com
    for p in PREFIXES {
        suggestions.push(format!("{p}{clean}.com"));
    }
    // brand + suffix.com
    for s in SUFFIXES {
        suggestions.push(format!("{clean}{s}.com"));
    }
    // brand-suffix.com (hyphenated): suffixes.slice(0, 4)
    for s in &SUFFIXES[..4] {
        suggestions.push(format!("{clean}-{s}.com"));
    }
    // prefix + brand with other TLDs: prefixes.slice(0, 3) × tlds.slice(1)
    for p in &PREFIXES[..3] {
        for tld in &SEED_TLDS[1..] {
            suggestions.push(format!("{p}{clean}.{tld}"));
        }
    }
    // [...new Set(suggestions)]: first occurrence wins, order kept.
    let mut seen = std::collections::HashSet::new();
    suggestions.retain(|s| seen.insert(s.clone()));
    Ok(suggestions)
}

/// [`seed_suggestions`] keeping only names Zapmail can sell: a TLD in `tlds` (the default
/// list drops the seed's `.io`) and valid syntax (a very long brand gives labels over 63
/// characters, which are dropped). Order is the seed's.
///
/// Errors: an empty or all-symbol brand, or a brand so long (or a TLD list so narrow) that
/// no suggestion remains.
pub fn suggest_domains(brand: &str, tlds: &SupportedTlds) -> Result<Vec<String>, WizardError> {
    let all = seed_suggestions(brand)?;
    let kept: Vec<String> = all.into_iter().filter(|n| tlds.check(n).is_ok()).collect();
    if kept.is_empty() {
        return Err(WizardError::InvalidBrand(format!(
            "no suggestion for {brand:?} is a domain Zapmail can sell (is the brand longer than \
             63 characters, or are none of .com/.net supported?); enter a shorter brand or \
             type domain names to check"
        )));
    }
    Ok(kept)
}
