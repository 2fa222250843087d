//! Path patterns for priced routes: `/weather`, `/users/{id}`, `/files/{*rest}`.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Param,
    /// `{*name}`: the rest of the path, possibly empty; only last.
    Rest,
}

/// A parsed path pattern, axum's syntax: literal segments, `{name}` for one segment, and a
/// final `{*name}` for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    segments: Vec<Segment>,
}

impl PathPattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidPath {
            pattern: pattern.to_owned(),
            reason,
        };
        let rest = pattern
            .strip_prefix('/')
            .ok_or_else(|| invalid("it must start with '/'"))?;
        let mut segments = Vec::new();
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        for (i, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.starts_with('*') => {
                    if i + 1 != parts.len() {
                        return Err(invalid("{*rest} must be the last segment"));
                    }
                    if name.len() == 1 {
                        return Err(invalid("{*} needs a name"));
                    }
                    Segment::Rest
                }
                Some("") => return Err(invalid("{} needs a name")),
                Some(name) if name.contains(['{', '}']) => {
                    return Err(invalid("a segment holds at most one {name}"));
                }
                Some(_) => Segment::Param,
                None if part.contains(['{', '}']) => {
                    return Err(invalid("a {name} must be a whole segment"));
                }
                None => Segment::Literal((*part).to_owned()),
            };
            segments.push(segment);
        }
        Ok(Self { segments })
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = rest.split('/');
        if rest.is_empty() {
            // "/" has no segments.
            parts.next();
        }
        for segment in &self.segments {
            match segment {
                Segment::Rest => return true,
                Segment::Literal(literal) => {
                    if parts.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
                Segment::Param => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern).unwrap().matches(path)
    }

    #[test]
    fn literals_match_exactly() {
        assert!(matches("/weather", "/weather"));
        assert!(!matches("/weather", "/weather/"));
        assert!(!matches("/weather", "/weathers"));
        assert!(!matches("/weather", "/"));
        assert!(matches("/", "/"));
        assert!(!matches("/", "/a"));
    }

    #[test]
    fn params_take_one_non_empty_segment() {
        assert!(matches("/users/{id}", "/users/7"));
        assert!(!matches("/users/{id}", "/users/"));
        assert!(!matches("/users/{id}", "/users/7/posts"));
        assert!(matches("/users/{id}/posts", "/users/7/posts"));
    }

    #[test]
    fn rest_takes_the_remainder() {
        assert!(matches("/files/{*path}", "/files/a/b/c"));
        assert!(matches("/files/{*path}", "/files/"));
        assert!(matches("/files/{*path}", "/files"));
        assert!(!matches("/files/{*path}", "/other/a"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for pattern in [
            "weather",
            "/a/{*rest}/b",
            "/{}",
            "/{*}",
            "/a{id}",
            "/{a}{b}",
        ] {
            assert!(PathPattern::parse(pattern).is_err(), "{pattern}");
        }
    }
}
