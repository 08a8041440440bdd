//! The key table holds together: every key maps to its action, no key is bound twice
//! where it works, every footer button is a key of its place.

use super::*;

#[test]
fn every_listed_key_maps_to_its_action() {
    for binding in BINDINGS {
        for key in binding.keys {
            let modifiers = if key.ctrl {
                KeyModifiers::CONTROL
            } else {
                KeyModifiers::NONE
            };
            let context = match binding.context {
                C::Lists => C::Profiles,
                other => other,
            };
            let event = KeyEvent::new(key.code, modifiers);
            assert_eq!(
                action_for_key(context, event),
                Some(binding.action.clone()),
                "{} in {:?}",
                binding.label,
                binding.context
            );
        }
    }
}

#[test]
fn no_key_is_bound_twice_in_one_place() {
    for context in HELP_ORDER {
        let mut seen = Vec::new();
        for layer in layers(*context) {
            for binding in bindings(*layer) {
                for key in binding.keys {
                    assert!(!seen.contains(key), "{key:?} twice in {context:?}");
                    seen.push(*key);
                }
            }
        }
    }
}

#[test]
fn every_footer_button_is_a_key_of_its_place() {
    // Both lists' keys show as the profiles pane's.
    for context in HELP_ORDER.iter().filter(|context| **context != C::Lists) {
        for (button, action) in footer_buttons(*context) {
            let bound = layers(*context)
                .iter()
                .flat_map(|layer| bindings(*layer))
                .any(|binding| binding.action == action);
            assert!(bound, "{} in {context:?} has no key", button.what);
        }
    }
    let profiles: Vec<_> = footer_buttons(C::Profiles)
        .into_iter()
        .map(|(button, _)| button.what)
        .collect();
    assert!(profiles.contains(&"launch") && !profiles.contains(&"profiles"));
    let instances: Vec<_> = footer_buttons(C::Instances)
        .into_iter()
        .map(|(button, _)| button.what)
        .collect();
    assert!(instances.contains(&"profiles") && !instances.contains(&"launch"));
}

#[test]
fn typing_in_a_filter_is_text_not_commands() {
    let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(action_for_key(C::Filter, q), Some(Action::Input('q')));
    assert_eq!(action_for_key(C::Profiles, q), Some(Action::Quit));
}
