//! Browser storage for the SDK's own keys: `localStorage`, `sessionStorage` or memory.
//!
//! Browser storage fails in ordinary situations: Safari's private mode and disabled cookies make the
//! `localStorage` getter throw, a full quota makes `setItem` throw, sandboxed iframes have none at
//! all. A panic in wasm kills the SDK for the rest of the page, so every access is probed and guarded
//! here (web-sys's `Result`s, never a panicking accessor): the first failure logs one console
//! warning and the store carries on in memory with the data it already had. Nothing here panics.
//!
//! Keys are namespaced per instance (`hallpass:<instance>:<name>`), so two apps or two Hallpass
//! instances on one origin never touch each other's data, and [`Store::clear`] can wipe every key
//! this instance ever wrote, including those written by earlier page loads.

use std::cell::RefCell;

use wasm_bindgen::JsValue;

/// Where the SDK keeps its session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StorageKind {
    /// `localStorage`: survives reloads and is shared by the origin's tabs (the default).
    #[default]
    Local,
    /// `sessionStorage`: survives reloads of this tab only.
    Session,
    /// Memory only: gone on reload.
    Memory,
}

impl StorageKind {
    /// Parses `"local"`, `"session"` or `"memory"`.
    pub fn parse(s: &str) -> Option<StorageKind> {
        match s {
            "local" => Some(StorageKind::Local),
            "session" => Some(StorageKind::Session),
            "memory" => Some(StorageKind::Memory),
            _ => None,
        }
    }
}

enum Backend {
    Web(web_sys::Storage),
    Memory,
}

/// The SDK's storage for one instance.
pub struct Store {
    kind: StorageKind,
    prefix: String,
    backend: RefCell<Backend>,
    /// Holds every value while on the memory backend, and a copy of what was written while on a web
    /// backend, so a later failure can fall back without losing anything.
    /// A handful of keys at most, so a `Vec` (a map costs kilobytes of wasm).
    memory: RefCell<Vec<(String, String)>>,
}

impl Store {
    /// Opens storage of `kind` for `instance` (any string that names the instance; it becomes part
    /// of every key). Never fails: unavailable storage means memory, with a console warning.
    pub fn open(kind: StorageKind, instance: &str) -> Store {
        let backend = match kind {
            StorageKind::Memory => Backend::Memory,
            StorageKind::Local | StorageKind::Session => match probe(kind) {
                Ok(storage) => Backend::Web(storage),
                Err(err) => {
                    warn("hallpass: no browser storage, using memory", &err);
                    Backend::Memory
                }
            },
        };
        Store {
            kind,
            prefix: key_prefix(instance),
            backend: RefCell::new(backend),
            memory: RefCell::new(Vec::new()),
        }
    }

    /// The kind that was asked for.
    pub fn kind(&self) -> StorageKind {
        self.kind
    }

    /// True when the store works from memory (asked for, or fallen back to).
    pub fn is_memory(&self) -> bool {
        matches!(*self.backend.borrow(), Backend::Memory)
    }

    /// The full storage key for `name`.
    pub fn key(&self, name: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + name.len());
        key.push_str(&self.prefix);
        key.push_str(name);
        key
    }

    /// Reads `name`; `None` when absent or unreadable.
    pub fn get(&self, name: &str) -> Option<String> {
        let key = self.key(name);
        let result = match &*self.backend.borrow() {
            Backend::Web(storage) => storage.get_item(&key),
            Backend::Memory => return self.memory_get(&key),
        };
        match result {
            Ok(value) => value,
            Err(err) => {
                self.fall_back(&err);
                self.memory_get(&key)
            }
        }
    }

    /// Writes `name`. A failing write (quota, storage disabled meanwhile) switches to memory and keeps
    /// the value there.
    pub fn set(&self, name: &str, value: &str) {
        let key = self.key(name);
        {
            let mut memory = self.memory.borrow_mut();
            match memory.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => value.clone_into(v),
                None => memory.push((key.clone(), value.to_owned())),
            }
        }
        let result = match &*self.backend.borrow() {
            Backend::Web(storage) => storage.set_item(&key, value),
            Backend::Memory => return,
        };
        if let Err(err) = result {
            self.fall_back(&err);
        }
    }

    /// Removes `name`.
    pub fn remove(&self, name: &str) {
        let key = self.key(name);
        self.memory.borrow_mut().retain(|(k, _)| *k != key);
        let result = match &*self.backend.borrow() {
            Backend::Web(storage) => storage.remove_item(&key),
            Backend::Memory => return,
        };
        if let Err(err) = result {
            self.fall_back(&err);
        }
    }

    /// Removes every key of this instance, whoever wrote it (this page or an earlier one).
    pub fn clear(&self) {
        let prefix = self.prefix.clone();
        self.memory.borrow_mut().retain(|(k, _)| !k.starts_with(&prefix));
        let backend = self.backend.borrow();
        let Backend::Web(storage) = &*backend else {
            return;
        };
        let mut ours = Vec::new();
        let len = storage.length().unwrap_or(0);
        for i in 0..len {
            if let Ok(Some(key)) = storage.key(i)
                && key.starts_with(&prefix)
            {
                ours.push(key);
            }
        }
        for key in ours {
            // A failure here leaves nothing to fall back to: the key is gone from memory already and
            // the next read of storage that throws falls back anyway.
            let _ = storage.remove_item(&key);
        }
    }

    /// Reads `name` and parses it with the browser's `JSON.parse`. Unparseable data is removed with a
    /// console warning and reads as `None`.
    pub fn get_json(&self, name: &str) -> Option<JsValue> {
        let raw = self.get(name)?;
        match js_sys::JSON::parse(&raw) {
            Ok(value) => Some(value),
            Err(err) => {
                warn("hallpass: cleared corrupt stored data", &err);
                self.remove(name);
                None
            }
        }
    }

    /// Writes `value` with the browser's `JSON.stringify`; returns false if it cannot be stringified.
    pub fn set_json(&self, name: &str, value: &JsValue) -> bool {
        match js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()) {
            Some(s) => {
                self.set(name, &s);
                true
            }
            None => false,
        }
    }

    fn memory_get(&self, key: &str) -> Option<String> {
        self.memory.borrow().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn fall_back(&self, err: &JsValue) {
        let mut backend = self.backend.borrow_mut();
        if let Backend::Web(_) = &*backend {
            warn("hallpass: browser storage failed, using memory", err);
            *backend = Backend::Memory;
        }
    }
}

/// `hallpass:<instance>:` with the instance reduced to characters that are safe in any key.
fn key_prefix(instance: &str) -> String {
    let mut prefix = String::with_capacity(instance.len() + 10);
    prefix.push_str("hallpass:");
    prefix.extend(
        instance.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }),
    );
    prefix.push(':');
    prefix
}

/// The storage of `kind`, once its getter has answered without throwing and it answers `length`
/// (Safari's private mode and disabled cookies throw there); never panics.
fn probe(kind: StorageKind) -> Result<web_sys::Storage, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let found = match kind {
        StorageKind::Session => window.session_storage(),
        _ => window.local_storage(),
    }?;
    // Reading, not a test write: a write costs time on every page load and fires a `storage` event
    // in every other tab of the origin. A write that fails later (a full quota) falls back to memory
    // with what it was writing, see `set`.
    let storage = found.ok_or_else(|| JsValue::from_str("storage is null"))?;
    storage.length()?;
    Ok(storage)
}

fn warn(message: &str, err: &JsValue) {
    web_sys::console::warn_2(&JsValue::from_str(message), err);
}
