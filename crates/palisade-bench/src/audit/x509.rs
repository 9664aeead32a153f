//! `openssl x509 -in FILE -subject -issuer -noout` as OpenSSL 3 prints it: the PEM
//! certificate's subject and issuer names in OpenSSL's default one-line form
//! (`subject=C = US, O = "Acme, Inc.", CN = x`). Only what that form prints unambiguously is
//! answered: the common attribute types by their short names, single-valued RDNs, ASCII string
//! values; anything else (other attributes, multi-valued RDNs, `"`/`\`, non-ASCII or control
//! characters) is reported as not evaluated natively rather than guessed.

use base64::Engine;

/// The subject and issuer of the first PEM certificate in `text`, each as OpenSSL prints the
/// name after `subject=` / `issuer=`. `Err` says why it cannot be answered natively; `Ok(None)`
/// is a file that holds no certificate (OpenSSL fails on it).
pub(crate) fn names(text: &str) -> Result<Option<(String, String)>, String> {
    let Some(der) = first_pem_certificate(text) else {
        return Ok(None);
    };
    let mut cert = Der::new(&der);
    let Some(mut cert) = cert.seq() else {
        return Ok(None);
    };
    let Some(mut tbs) = cert.seq() else {
        return Ok(None);
    };
    // [0] EXPLICIT version, optional.
    if tbs.peek_tag() == Some(0xa0) {
        tbs.next();
    }
    let parsed = (|| {
        tbs.expect(0x02)?; // serialNumber
        tbs.expect(0x30)?; // signature AlgorithmIdentifier
        let issuer = tbs.expect(0x30)?;
        tbs.expect(0x30)?; // validity
        let subject = tbs.expect(0x30)?;
        Some((subject, issuer))
    })();
    let Some((subject, issuer)) = parsed else {
        return Ok(None);
    };
    Ok(Some((oneline(subject)?, oneline(issuer)?)))
}

fn first_pem_certificate(text: &str) -> Option<Vec<u8>> {
    let mut body = String::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if !inside {
            inside = matches!(
                line,
                "-----BEGIN CERTIFICATE-----"
                    | "-----BEGIN X509 CERTIFICATE-----"
                    | "-----BEGIN TRUSTED CERTIFICATE-----"
            );
            continue;
        }
        if line.starts_with("-----END ") {
            return base64::engine::general_purpose::STANDARD.decode(&body).ok();
        }
        body.push_str(line);
    }
    None
}

/// A DER reader over one level of TLVs.
struct Der<'a> {
    buf: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(buf: &'a [u8]) -> Der<'a> {
        Der { buf }
    }

    fn peek_tag(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// The next TLV as (tag, contents).
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.buf.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, r) = rest.split_at_checked(n)?;
            rest = r;
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        let (content, rest) = rest.split_at_checked(len)?;
        self.buf = rest;
        Some((tag, content))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.next()? {
            (t, c) if t == tag => Some(c),
            _ => None,
        }
    }

    fn seq(&mut self) -> Option<Der<'a>> {
        self.expect(0x30).map(Der::new)
    }
}

/// OpenSSL's short names for the attribute types certificates commonly carry.
fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x04] => "SN",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "street",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x0c] => "title",
        [0x55, 0x04, 0x11] => "postalCode",
        [0x55, 0x04, 0x2a] => "GN",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01] => "UID",
        _ => return None,
    })
}

/// A Name in OpenSSL 3's default `x509 -subject` form: RDNs in order, `, ` between them,
/// `TYPE = value`, a value holding an RFC 2253 special character (or a leading `#`/space, a
/// trailing space) wrapped in double quotes.
fn oneline(name: &[u8]) -> Result<String, String> {
    let mut rdns = Der::new(name);
    let mut parts = Vec::new();
    while !rdns.buf.is_empty() {
        let Some(set) = rdns.expect(0x31) else {
            return Err("a malformed name".into());
        };
        let mut set = Der::new(set);
        let mut atv = set.seq().ok_or("a malformed name")?;
        if !set.buf.is_empty() {
            return Err("a multi-valued RDN".into());
        }
        let oid = atv.expect(0x06).ok_or("a malformed name")?;
        let name = short_name(oid).ok_or("an attribute type without a short name here")?;
        let (tag, value) = atv.next().ok_or("a malformed name")?;
        // UTF8String, PrintableString, T61String, IA5String.
        if !matches!(tag, 0x0c | 0x13 | 0x14 | 0x16) {
            return Err(format!("a name value of ASN.1 type {tag:#04x}"));
        }
        let value = std::str::from_utf8(value).map_err(|_| "a non-UTF-8 name value")?;
        if value
            .chars()
            .any(|c| !(' '..='~').contains(&c) || c == '"' || c == '\\')
        {
            return Err("a name value OpenSSL escapes".into());
        }
        let quote = value.contains([',', '+', '<', '>', ';'])
            || value.starts_with(['#', ' '])
            || value.ends_with(' ');
        parts.push(if quote {
            format!("{name} = \"{value}\"")
        } else {
            format!("{name} = {value}")
        });
    }
    Ok(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_short_names() {
        let mut d = Der::new(&[0x30, 0x81, 0x02, 0x05, 0x00, 0x01]);
        assert_eq!(d.next(), Some((0x30, &[0x05, 0x00][..])));
        assert_eq!(d.next(), None, "a truncated TLV");
        assert_eq!(short_name(&[0x55, 0x04, 0x03]), Some("CN"));
        assert_eq!(short_name(&[0x55, 0x04, 0x63]), None);
        assert_eq!(names("no certificate here"), Ok(None));
    }
}
