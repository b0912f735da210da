//! Art. 5(5): the file-sharing software the office forbids, and how an
//! installed program's name is matched against it.

use unicode_normalization::UnicodeNormalization;

/// Art. 5(5): the file-sharing software the office forbids, configurable
/// (`HELLOWORK_FILE_SHARING_SOFTWARE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSharingList(Vec<String>);

impl FileSharingList {
    /// Named in Art. 5(5) (Winny, Share) and the other peer-to-peer clients
    /// the office's guidance lists.
    pub const DEFAULT: &'static [&'static str] = &[
        "Winny",
        "Share",
        "Perfect Dark",
        "Cabos",
        "LimeWire",
        "WinMX",
        "BitTorrent",
        "µTorrent",
        "uTorrent",
        "qBittorrent",
        "BitComet",
        "Vuze",
        "Azureus",
        "Deluge",
        "Transmission",
        "eMule",
        "Shareaza",
        "FrostWire",
        "Xunlei",
    ];

    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        Self(
            names
                .into_iter()
                .map(|name| fold(name.as_ref()))
                .filter(|name| !name.is_empty())
                .collect(),
        )
    }

    /// Art. 5(5): whether an installed program's name is on the list: the
    /// folded name starts with a listed name not followed by a letter, so
    /// `Share EX2` and `Winny2` match while `SharePoint` does not.
    pub fn matches(&self, installed: &str) -> bool {
        let installed = fold(installed);
        self.0.iter().any(|listed| {
            installed
                .strip_prefix(listed.as_str())
                .is_some_and(|rest| !rest.starts_with(char::is_alphabetic))
        })
    }
}

impl Default for FileSharingList {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
}

fn fold(name: &str) -> String {
    name.trim().nfkc().collect::<String>().to_lowercase()
}
