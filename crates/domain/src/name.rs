//! How the registry compares a party's ids, names and aliases.
//!
//! People type names as they remember them: `plzen region`, `PLZEŇ
//! REGION` and ` Plzeň  Region ` all mean the Plzeň Region. One folding,
//! [`NameKey`], serves both the look-up of a party by text (the parties
//! projection) and the rule that no party may take a name another party
//! already answers to ([`crate::decide`]), so that whatever the rule lets
//! in, the look-up can tell apart.

use std::fmt;

/// A name, alias or id as compared: surrounding white space dropped, runs
/// of white space as one space, lower case, and the diacritics of Latin
/// letters removed (`Čuhujiv` → `cuhujiv`, `Møre` → `more`, `Straße` →
/// `strasse`). Other scripts keep their letters, in lower case.
///
/// Invariant: a party id (a lowercase ASCII slug) is its own key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct NameKey(String);

impl NameKey {
    /// The key of a text.
    pub fn of(text: &str) -> NameKey {
        let mut key = String::with_capacity(text.len());
        for word in text.split_whitespace() {
            if !key.is_empty() {
                key.push(' ');
            }
            for c in word.chars().flat_map(char::to_lowercase) {
                // Combining marks, as in a decomposed `c\u{30C}` (č).
                if ('\u{300}'..='\u{36F}').contains(&c) {
                    continue;
                }
                match latin_base(c) {
                    Some(base) => key.push_str(base),
                    None => key.push(c),
                }
            }
        }
        NameKey(key)
    }

    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The plain letters of a lower-case Latin letter with diacritics (Latin-1
/// Supplement, Latin Extended-A and the Romanian comma letters), `None`
/// for any other character.
fn latin_base(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' | 'ĸ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' | 'ŋ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, key: &str) {
        assert_eq!(NameKey::of(text).as_str(), key, "{text:?}");
    }

    #[test]
    fn names_fold_to_one_key() {
        check("Plzeň Region", "plzen region");
        check("  PLZEŇ   REGION ", "plzen region");
        check("Plzen\tregion", "plzen region");
        // A decomposed č folds like a composed one.
        check("C\u{30C}uhujiv", "cuhujiv");
        check("Čuhujiv", "cuhujiv");
        check("Møre og Romsdal", "more og romsdal");
        check("Freistaat Bayern", "freistaat bayern");
        check("Straße", "strasse");
        check("Ústí nad Labem", "usti nad labem");
        check("Łódź", "lodz");
        check("Чугуїв", "чугуїв");
        check("liberecky-kraj", "liberecky-kraj");
        check("", "");
    }
}
