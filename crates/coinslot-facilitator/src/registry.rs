//! [`Registry`]: which scheme facilitator handles a request, by version, scheme and network.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use coinslot_core::{Network, NetworkPattern, SchemeFacilitator, SupportedKind, SupportedResponse};

/// One registered scheme facilitator.
struct Entry {
    x402_version: u8,
    pattern: NetworkPattern,
    scheme: Arc<dyn SchemeFacilitator>,
}

/// Scheme facilitators keyed by protocol version, scheme name and network pattern. The first
/// registration that matches a request handles it.
#[derive(Default)]
pub struct Registry {
    entries: Vec<Entry>,
    extensions: Vec<String>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for entry in &self.entries {
            list.entry(&format_args!(
                "v{} {} {}",
                entry.x402_version,
                entry.scheme.scheme(),
                entry.pattern
            ));
        }
        list.finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `scheme` for the versions it exists in ([`SchemeFacilitator::x402_versions`])
    /// on each network it names ([`SchemeFacilitator::networks`]).
    pub fn register(&mut self, scheme: Arc<dyn SchemeFacilitator>) {
        for network in scheme.networks() {
            for &version in scheme.x402_versions() {
                self.register_for(
                    version,
                    NetworkPattern::from(network.clone()),
                    Arc::clone(&scheme),
                );
            }
        }
    }

    /// Registers `scheme` for one version on the networks `pattern` matches.
    pub fn register_for(
        &mut self,
        x402_version: u8,
        pattern: NetworkPattern,
        scheme: Arc<dyn SchemeFacilitator>,
    ) {
        self.entries.push(Entry {
            x402_version,
            pattern,
            scheme,
        });
    }

    /// Advertises an extension (`bazaar`…) in `/supported`.
    pub fn advertise_extension(&mut self, name: impl Into<String>) {
        let name = name.into();
        if !self.extensions.contains(&name) {
            self.extensions.push(name);
        }
    }

    /// The scheme facilitator for a request.
    pub fn find(
        &self,
        x402_version: u8,
        scheme: &str,
        network: &Network,
    ) -> Option<&Arc<dyn SchemeFacilitator>> {
        self.entries
            .iter()
            .find(|e| {
                e.x402_version == x402_version
                    && e.scheme.scheme() == scheme
                    && e.pattern.matches(network)
            })
            .map(|e| &e.scheme)
    }

    /// The `/supported` answer: one kind per version, scheme and named network (v1 kinds under
    /// their v1 names, skipped where a network has none), the signers by CAIP-2 namespace
    /// (`eip155:*`), and the extensions.
    pub fn supported(&self) -> SupportedResponse {
        let mut kinds: Vec<SupportedKind> = Vec::new();
        let mut signers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in &self.entries {
            for network in entry.scheme.networks() {
                if !entry.pattern.matches(&network) {
                    continue;
                }
                let name = match entry.x402_version {
                    1 => match network.v1_name() {
                        Some(name) => name.to_owned(),
                        None => continue,
                    },
                    _ => network.as_str().to_owned(),
                };
                let kind = SupportedKind {
                    x402_version: entry.x402_version,
                    scheme: entry.scheme.scheme().to_owned(),
                    network: name,
                    extra: entry.scheme.supported_extra(&network),
                };
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
                let addresses = signers
                    .entry(format!("{}:*", network.namespace()))
                    .or_default();
                for signer in entry.scheme.signers() {
                    if !addresses.contains(&signer) {
                        addresses.push(signer);
                    }
                }
            }
        }
        // v2 first, as the reference lists them.
        kinds.sort_by_key(|kind| std::cmp::Reverse(kind.x402_version));
        // Those named by the operator, then those the schemes act on.
        let mut extensions = self.extensions.clone();
        for name in self.entries.iter().flat_map(|e| e.scheme.extensions()) {
            if !extensions.contains(&name) {
                extensions.push(name);
            }
        }
        SupportedResponse {
            kinds,
            extensions,
            signers,
        }
    }
}
