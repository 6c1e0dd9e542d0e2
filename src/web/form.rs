//! What a page form needs when it is sent back: every problem at once, each tied to its
//! field, so the page can show a summary at the top that links to each field and the message
//! beside the field (`templates/partials/problems.html` and `field.html`).

/// Every problem with a submitted form, as (field id, message), in the order they were found
/// (which is the form's order when the page checks its fields top to bottom).
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<(String, String)>,
    /// What the form is about, for the summary's heading ("with the crew").
    about: &'static str,
}

impl Problems {
    /// No problems yet, about `about` ("the crew", "the invitation").
    pub fn about(about: &'static str) -> Problems {
        Problems {
            list: Vec::new(),
            about,
        }
    }

    /// Records a problem with `field`; a second one for the same field is dropped, so each
    /// field shows its first problem only.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if self.of(&field).is_none() {
            self.list.push((field, message.into()));
        }
    }

    /// The value when it parsed, else records `message` against `field` and gives `None`.
    pub fn check<T, E>(&mut self, field: impl Into<String>, value: Result<T, E>, message: &str) -> Option<T> {
        match value {
            Ok(v) => Some(v),
            Err(_) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Puts the problems in the order of `fields` (the form's order, top to bottom), for
    /// problems found by more than one check; fields not named go last.
    pub fn in_order(mut self, fields: &[&str]) -> Problems {
        self.list
            .sort_by_key(|(f, _)| fields.iter().position(|x| x == f).unwrap_or(fields.len()));
        self
    }

    /// The message beside `field`, if it has a problem.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(String, String)> {
        self.list.iter()
    }

    pub fn subject(&self) -> &'static str {
        self.about
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_problem_of_each_field_in_order() {
        let mut p = Problems::about("the crew");
        p.add("name", "Enter a name.");
        p.add("radius", "Enter a distance.");
        p.add("name", "Too long.");
        assert_eq!(p.len(), 2);
        assert_eq!(p.of("name"), Some("Enter a name."));
        assert_eq!(
            p.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
            ["name", "radius"]
        );
        assert_eq!(
            p.check("capacity", "x".parse::<u32>(), "Enter a whole number."),
            None
        );
        assert_eq!(p.check("rating", "4".parse::<u32>(), "Enter a number."), Some(4));
        assert_eq!(p.of("capacity"), Some("Enter a whole number."));
        assert!(p.of("rating").is_none());
    }
}
