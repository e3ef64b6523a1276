// Copyright 2020 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//      http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

use crate::hostcalls;
use crate::traits::*;
use crate::types::*;
#[cfg(feature = "full")]
use hashbrown::HashMap;

// distill-guard's patch (PATCHED.md): without `full`, std's map with one
// multiplication for a hash. Context and token ids are small integers the
// host assigns, so they need no seeded hasher; the module then links
// neither the hashbrown crate's copy of the table nor foldhash's seeding.
#[cfg(not(feature = "full"))]
type HashMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

#[cfg(not(feature = "full"))]
#[derive(Default)]
struct IdHasher(u64);

#[cfg(not(feature = "full"))]
impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
#[cfg(feature = "full")]
use log::trace;
use std::cell::{Cell, RefCell};

#[cfg(feature = "full")]
thread_local! {
static DISPATCHER: Dispatcher = Dispatcher::new();
}

// distill-guard's patch (PATCHED.md): without `full` every map has a
// `const` constructor, so the dispatcher is built at compile time: no lazy
// initialisation linked, and no "initialised yet?" test in each callback.
#[cfg(not(feature = "full"))]
thread_local! {
static DISPATCHER: Dispatcher = const { Dispatcher::new() };
}

pub(crate) fn set_root_context(callback: NewRootContext) {
    DISPATCHER.with(|dispatcher| dispatcher.set_root_context(callback));
}

pub(crate) fn set_stream_context(callback: NewStreamContext) {
    DISPATCHER.with(|dispatcher| dispatcher.set_stream_context(callback));
}

pub(crate) fn set_http_context(callback: NewHttpContext) {
    DISPATCHER.with(|dispatcher| dispatcher.set_http_context(callback));
}

pub(crate) fn register_callout(token_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.register_callout(token_id));
}

pub(crate) fn register_grpc_callout(token_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.register_grpc_callout(token_id));
}

pub(crate) fn register_grpc_stream(token_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.register_grpc_stream(token_id));
}

#[cfg(feature = "full")]
type StreamMap = HashMap<u32, Box<dyn StreamContext>>;

// distill-guard's patch (PATCHED.md): without `full` there are no stream
// (network-filter) contexts, so their map is always empty and every lookup
// in it folds away.
#[cfg(not(feature = "full"))]
#[derive(Default)]
struct StreamMap;

#[cfg(not(feature = "full"))]
impl StreamMap {
    fn get_mut(&mut self, _context_id: &u32) -> Option<&mut Box<dyn StreamContext>> {
        None
    }

    fn remove(&mut self, _context_id: &u32) -> Option<Box<dyn StreamContext>> {
        None
    }
}

struct NoopRoot;

impl Context for NoopRoot {}
impl RootContext for NoopRoot {}

/// The HTTP callouts in flight: token id -> the context that made the call.
#[cfg(feature = "full")]
type CalloutMap = HashMap<u32, u32>;
#[cfg(not(feature = "full"))]
type CalloutMap = IdMap;

/// The root contexts (one per plugin in the VM).
#[cfg(feature = "full")]
type RootMap = HashMap<u32, Box<dyn RootContext>>;
#[cfg(not(feature = "full"))]
type RootMap = IdMap<Box<dyn RootContext>>;

/// distill-guard patch (PATCHED.md): without `full`, the HTTP callouts in
/// flight and the root contexts, a few at a time, are a vector searched in
/// order, with the map's `insert`, `remove`, `get` and `get_mut`, not a
/// hash map (two hash-table instantiations fewer in the module; issue 8:
/// module size).
#[cfg(any(test, not(feature = "full")))]
struct IdMap<V = u32>(Vec<(u32, V)>);

#[cfg(any(test, not(feature = "full")))]
impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap(Vec::new())
    }
}

#[cfg(any(test, not(feature = "full")))]
impl<V> IdMap<V> {
    /// As `HashMap::insert`: the value the id had, if any.
    fn insert(&mut self, id: u32, value: V) -> Option<V> {
        if let Some(entry) = self.0.iter_mut().find(|(t, _)| *t == id) {
            return Some(std::mem::replace(&mut entry.1, value));
        }
        self.0.push((id, value));
        None
    }

    /// As `HashMap::remove`.
    fn remove(&mut self, id: &u32) -> Option<V> {
        let i = self.0.iter().position(|(t, _)| t == id)?;
        Some(self.0.swap_remove(i).1)
    }

    /// As `HashMap::get`.
    fn get(&self, id: &u32) -> Option<&V> {
        self.0.iter().find(|(t, _)| t == id).map(|(_, v)| v)
    }

    /// As `HashMap::get_mut`.
    fn get_mut(&mut self, id: &u32) -> Option<&mut V> {
        self.0.iter_mut().find(|(t, _)| t == id).map(|(_, v)| v)
    }
}

/// The HTTP contexts: `HashMap` with `full`; without it (distill-guard's
/// patch, PATCHED.md), a vector sorted by id, searched by halving.
#[cfg(feature = "full")]
type HttpMap = HashMap<u32, Box<dyn HttpContext>>;
#[cfg(not(feature = "full"))]
type HttpMap = SortedIdMap<Box<dyn HttpContext>>;

/// distill-guard patch (PATCHED.md): without `full`, the HTTP contexts
/// (hundreds to thousands at a time) are a vector sorted by id with the
/// map's `insert`, `remove` and `get_mut`, not a hash map: the host
/// numbers contexts upwards, so a new one is pushed at the end, and a
/// lookup is a binary search (issue 8: module size; the table's growth
/// and probing were ~3 KB of the module). A removed context leaves its
/// slot empty instead of moving the ones after it: requests end roughly
/// in the order they began, so a removal would move nearly every other
/// entry, a copy the size of the map per request with thousands of
/// streams in flight. The empty slots go in one pass once they are half
/// the vector, so a removal costs O(1) amortised and the vector holds at
/// most twice the live contexts.
#[cfg(any(test, not(feature = "full")))]
struct SortedIdMap<V> {
    slots: Vec<(u32, Option<V>)>,
    empty: usize,
}

#[cfg(any(test, not(feature = "full")))]
impl<V> Default for SortedIdMap<V> {
    fn default() -> Self {
        SortedIdMap {
            slots: Vec::new(),
            empty: 0,
        }
    }
}

#[cfg(any(test, not(feature = "full")))]
impl<V> SortedIdMap<V> {
    fn find(&self, id: u32) -> Result<usize, usize> {
        self.slots.binary_search_by(|(t, _)| t.cmp(&id))
    }

    /// As `HashMap::insert`: the value the id had, if any.
    fn insert(&mut self, id: u32, value: V) -> Option<V> {
        match self.slots.last() {
            Some((last, _)) if *last >= id => {}
            _ => {
                self.slots.push((id, Some(value)));
                return None;
            }
        }
        match self.find(id) {
            Ok(i) => {
                let old = self.slots.get_mut(i)?.1.replace(value);
                if old.is_none() {
                    self.empty -= 1;
                }
                old
            }
            Err(i) => {
                self.slots.insert(i, (id, Some(value)));
                None
            }
        }
    }

    /// As `HashMap::remove`.
    fn remove(&mut self, id: &u32) -> Option<V> {
        let i = self.find(*id).ok()?;
        let old = self.slots.get_mut(i)?.1.take()?;
        self.empty += 1;
        if self.empty * 2 > self.slots.len() {
            self.slots.retain(|(_, v)| v.is_some());
            self.empty = 0;
        }
        Some(old)
    }

    /// As `HashMap::get_mut`.
    fn get_mut(&mut self, id: &u32) -> Option<&mut V> {
        let i = self.find(*id).ok()?;
        self.slots.get_mut(i)?.1.as_mut()
    }
}

/// distill-guard patch (PATCHED.md): the dispatcher's panics (an id the
/// host should never send, a constructor missing) go through one
/// function, so the module holds one panic site for all of them instead
/// of a message and location per callback (issue 8: module size). The
/// messages are the SDK's.
#[cold]
#[inline(never)]
fn sdk_panic(message: &'static str) -> ! {
    panic!("{}", message)
}

struct Dispatcher {
    new_root: Cell<Option<NewRootContext>>,
    roots: RefCell<RootMap>,
    new_stream: Cell<Option<NewStreamContext>>,
    streams: RefCell<StreamMap>,
    new_http_stream: Cell<Option<NewHttpContext>>,
    http_streams: RefCell<HttpMap>,
    active_id: Cell<u32>,
    callouts: RefCell<CalloutMap>,
    grpc_callouts: RefCell<HashMap<u32, u32>>,
    grpc_streams: RefCell<HashMap<u32, u32>>,
}

impl Dispatcher {
    #[cfg(not(feature = "full"))]
    const fn new() -> Dispatcher {
        Dispatcher {
            new_root: Cell::new(None),
            roots: RefCell::new(IdMap(Vec::new())),
            new_stream: Cell::new(None),
            streams: RefCell::new(StreamMap),
            new_http_stream: Cell::new(None),
            http_streams: RefCell::new(SortedIdMap {
                slots: Vec::new(),
                empty: 0,
            }),
            active_id: Cell::new(0),
            callouts: RefCell::new(IdMap(Vec::new())),
            grpc_callouts: RefCell::new(HashMap::with_hasher(std::hash::BuildHasherDefault::new())),
            grpc_streams: RefCell::new(HashMap::with_hasher(std::hash::BuildHasherDefault::new())),
        }
    }

    #[cfg(feature = "full")]
    fn new() -> Dispatcher {
        Dispatcher {
            new_root: Cell::new(None),
            roots: RefCell::new(RootMap::default()),
            new_stream: Cell::new(None),
            streams: RefCell::new(StreamMap::default()),
            new_http_stream: Cell::new(None),
            http_streams: RefCell::new(HttpMap::default()),
            active_id: Cell::new(0),
            callouts: RefCell::new(CalloutMap::default()),
            grpc_callouts: RefCell::new(HashMap::default()),
            grpc_streams: RefCell::new(HashMap::default()),
        }
    }

    fn set_root_context(&self, callback: NewRootContext) {
        self.new_root.set(Some(callback));
    }

    fn set_stream_context(&self, callback: NewStreamContext) {
        self.new_stream.set(Some(callback));
    }

    fn set_http_context(&self, callback: NewHttpContext) {
        self.new_http_stream.set(Some(callback));
    }

    fn register_callout(&self, token_id: u32) {
        if self
            .callouts
            .borrow_mut()
            .insert(token_id, self.active_id.get())
            .is_some()
        {
            sdk_panic("duplicate token_id")
        }
    }

    fn register_grpc_stream(&self, token_id: u32) {
        if self
            .grpc_streams
            .borrow_mut()
            .insert(token_id, self.active_id.get())
            .is_some()
        {
            sdk_panic("duplicate token_id")
        }
    }

    fn register_grpc_callout(&self, token_id: u32) {
        if self
            .grpc_callouts
            .borrow_mut()
            .insert(token_id, self.active_id.get())
            .is_some()
        {
            sdk_panic("duplicate token_id")
        }
    }

    fn create_root_context(&self, context_id: u32) {
        let new_context = match self.new_root.get() {
            Some(f) => f(context_id),
            None => Box::new(NoopRoot),
        };
        if self
            .roots
            .borrow_mut()
            .insert(context_id, new_context)
            .is_some()
        {
            sdk_panic("duplicate context_id")
        }
    }

    #[cfg(not(feature = "full"))]
    fn create_stream_context(&self, _context_id: u32, _root_context_id: u32) {
        sdk_panic("stream contexts need the SDK's `full` feature")
    }

    #[cfg(feature = "full")]
    fn create_stream_context(&self, context_id: u32, root_context_id: u32) {
        let new_context = match self.roots.borrow().get(&root_context_id) {
            Some(root_context) => match self.new_stream.get() {
                Some(f) => f(context_id, root_context_id),
                None => match root_context.create_stream_context(context_id) {
                    Some(stream_context) => stream_context,
                    None => sdk_panic("create_stream_context returned None"),
                },
            },
            None => sdk_panic("invalid root_context_id"),
        };
        if self
            .streams
            .borrow_mut()
            .insert(context_id, new_context)
            .is_some()
        {
            sdk_panic("duplicate context_id")
        }
    }

    fn create_http_context(&self, context_id: u32, root_context_id: u32) {
        let new_context = match self.roots.borrow().get(&root_context_id) {
            Some(root_context) => match self.new_http_stream.get() {
                Some(f) => f(context_id, root_context_id),
                None => match root_context.create_http_context(context_id) {
                    Some(stream_context) => stream_context,
                    None => sdk_panic("create_http_context returned None"),
                },
            },
            None => sdk_panic("invalid root_context_id"),
        };
        if self
            .http_streams
            .borrow_mut()
            .insert(context_id, new_context)
            .is_some()
        {
            sdk_panic("duplicate context_id")
        }
    }

    fn on_create_context(&self, context_id: u32, root_context_id: u32) {
        if root_context_id == 0 {
            self.create_root_context(context_id);
        } else if self.new_http_stream.get().is_some() {
            self.create_http_context(context_id, root_context_id);
        } else if self.new_stream.get().is_some() {
            self.create_stream_context(context_id, root_context_id);
        } else if let Some(root_context) = self.roots.borrow().get(&root_context_id) {
            match root_context.get_type() {
                Some(ContextType::HttpContext) => {
                    self.create_http_context(context_id, root_context_id)
                }
                Some(ContextType::StreamContext) => {
                    self.create_stream_context(context_id, root_context_id)
                }
                None => sdk_panic("missing ContextType on root_context"),
            }
        } else {
            sdk_panic("invalid root_context_id and missing constructors");
        }
    }

    fn on_done(&self, context_id: u32) -> bool {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_done()
        } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_done()
        } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            root.on_done()
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_log(&self, context_id: u32) {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_log()
        } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_log()
        } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            root.on_log()
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_delete(&self, context_id: u32) {
        if !(self.http_streams.borrow_mut().remove(&context_id).is_some()
            || self.streams.borrow_mut().remove(&context_id).is_some()
            || self.roots.borrow_mut().remove(&context_id).is_some())
        {
            sdk_panic("invalid context_id")
        }
    }

    fn on_vm_start(&self, context_id: u32, vm_configuration_size: usize) -> bool {
        if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            root.on_vm_start(vm_configuration_size)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_configure(&self, context_id: u32, plugin_configuration_size: usize) -> bool {
        if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            root.on_configure(plugin_configuration_size)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_tick(&self, context_id: u32) {
        if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            root.on_tick()
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_queue_ready(&self, context_id: u32, queue_id: u32) {
        if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            root.on_queue_ready(queue_id)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_new_connection(&self, context_id: u32) -> Action {
        if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_new_connection()
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_downstream_data(&self, context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_downstream_data(data_size, end_of_stream)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_downstream_close(&self, context_id: u32, peer_type: PeerType) {
        if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_downstream_close(peer_type)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_upstream_data(&self, context_id: u32, data_size: usize, end_of_stream: bool) -> Action {
        if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_upstream_data(data_size, end_of_stream)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    #[cfg(feature = "full")]
    fn on_upstream_close(&self, context_id: u32, peer_type: PeerType) {
        if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            stream.on_upstream_close(peer_type)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_request_headers(
        &self,
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_http_request_headers(num_headers, end_of_stream)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_request_body(
        &self,
        context_id: u32,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_http_request_body(body_size, end_of_stream)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_request_trailers(&self, context_id: u32, num_trailers: usize) -> Action {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_http_request_trailers(num_trailers)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_response_headers(
        &self,
        context_id: u32,
        num_headers: usize,
        end_of_stream: bool,
    ) -> Action {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_http_response_headers(num_headers, end_of_stream)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_response_body(
        &self,
        context_id: u32,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_http_response_body(body_size, end_of_stream)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_response_trailers(&self, context_id: u32, num_trailers: usize) -> Action {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            http_stream.on_http_response_trailers(num_trailers)
        } else {
            sdk_panic("invalid context_id")
        }
    }

    fn on_http_call_response(
        &self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        num_trailers: usize,
    ) {
        let context_id = self
            .callouts
            .borrow_mut()
            .remove(&token_id)
            .expect("invalid token_id");

        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            http_stream.on_http_call_response(token_id, num_headers, body_size, num_trailers)
        } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            stream.on_http_call_response(token_id, num_headers, body_size, num_trailers)
        } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            root.on_http_call_response(token_id, num_headers, body_size, num_trailers)
        }
    }

    #[cfg(feature = "full")]
    fn on_grpc_receive_initial_metadata(&self, token_id: u32, headers: u32) {
        let context_id = match self.grpc_streams.borrow_mut().get(&token_id) {
            Some(id) => *id,
            None => {
                // TODO: change back to a panic once underlying issue is fixed.
                trace!("on_grpc_receive_initial_metadata: invalid token_id");
                return;
            }
        };

        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            http_stream.on_grpc_stream_initial_metadata(token_id, headers);
        } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            stream.on_grpc_stream_initial_metadata(token_id, headers);
        } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            root.on_grpc_stream_initial_metadata(token_id, headers);
        }
    }

    #[cfg(feature = "full")]
    fn on_grpc_receive(&self, token_id: u32, response_size: usize) {
        let context_id = self.grpc_callouts.borrow_mut().remove(&token_id);
        if let Some(context_id) = context_id {
            if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
                self.active_id.set(context_id);
                hostcalls::set_effective_context(context_id).unwrap();
                http_stream.on_grpc_call_response(token_id, 0, response_size);
            } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
                self.active_id.set(context_id);
                hostcalls::set_effective_context(context_id).unwrap();
                stream.on_grpc_call_response(token_id, 0, response_size);
            } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
                self.active_id.set(context_id);
                hostcalls::set_effective_context(context_id).unwrap();
                root.on_grpc_call_response(token_id, 0, response_size);
            }
        } else {
            let context_id = self.grpc_streams.borrow().get(&token_id).cloned();
            if let Some(context_id) = context_id {
                if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
                    self.active_id.set(context_id);
                    hostcalls::set_effective_context(context_id).unwrap();
                    http_stream.on_grpc_stream_message(token_id, response_size);
                } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
                    self.active_id.set(context_id);
                    hostcalls::set_effective_context(context_id).unwrap();
                    stream.on_grpc_stream_message(token_id, response_size);
                } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
                    self.active_id.set(context_id);
                    hostcalls::set_effective_context(context_id).unwrap();
                    root.on_grpc_stream_message(token_id, response_size);
                }
            } else {
                // TODO: change back to a panic once underlying issue is fixed.
                trace!("on_grpc_receive_initial_metadata: invalid token_id");
            }
        }
    }

    #[cfg(feature = "full")]
    fn on_grpc_receive_trailing_metadata(&self, token_id: u32, trailers: u32) {
        let context_id = match self.grpc_streams.borrow_mut().get(&token_id) {
            Some(id) => *id,
            None => {
                // TODO: change back to a panic once underlying issue is fixed.
                trace!("on_grpc_receive_trailing_metadata: invalid token_id");
                return;
            }
        };

        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            http_stream.on_grpc_stream_trailing_metadata(token_id, trailers);
        } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            stream.on_grpc_stream_trailing_metadata(token_id, trailers);
        } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            root.on_grpc_stream_trailing_metadata(token_id, trailers);
        }
    }

    #[cfg(feature = "full")]
    fn on_grpc_close(&self, token_id: u32, status_code: u32) {
        let context_id = self.grpc_callouts.borrow_mut().remove(&token_id);
        if let Some(context_id) = context_id {
            if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
                self.active_id.set(context_id);
                hostcalls::set_effective_context(context_id).unwrap();
                http_stream.on_grpc_call_response(token_id, status_code, 0);
            } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
                self.active_id.set(context_id);
                hostcalls::set_effective_context(context_id).unwrap();
                stream.on_grpc_call_response(token_id, status_code, 0);
            } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
                self.active_id.set(context_id);
                hostcalls::set_effective_context(context_id).unwrap();
                root.on_grpc_call_response(token_id, status_code, 0);
            }
        } else {
            let context_id = self.grpc_streams.borrow_mut().remove(&token_id);
            if let Some(context_id) = context_id {
                if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
                    self.active_id.set(context_id);
                    hostcalls::set_effective_context(context_id).unwrap();
                    http_stream.on_grpc_stream_close(token_id, status_code)
                } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
                    self.active_id.set(context_id);
                    hostcalls::set_effective_context(context_id).unwrap();
                    stream.on_grpc_stream_close(token_id, status_code)
                } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
                    self.active_id.set(context_id);
                    hostcalls::set_effective_context(context_id).unwrap();
                    root.on_grpc_stream_close(token_id, status_code)
                }
            } else {
                // TODO: change back to a panic once underlying issue is fixed.
                trace!("on_grpc_close: invalid token_id, a non-connected stream has closed");
            }
        }
    }

    #[cfg(feature = "full")]
    fn on_foreign_function(&self, context_id: u32, function_id: u32, arugments_size: usize) {
        if let Some(http_stream) = self.http_streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            http_stream.on_foreign_function(function_id, arugments_size)
        } else if let Some(stream) = self.streams.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            stream.on_foreign_function(function_id, arugments_size)
        } else if let Some(root) = self.roots.borrow_mut().get_mut(&context_id) {
            self.active_id.set(context_id);
            hostcalls::set_effective_context(context_id).unwrap();
            root.on_foreign_function(function_id, arugments_size)
        }
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(context_id: u32, root_context_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.on_create_context(context_id, root_context_id))
}

#[no_mangle]
pub extern "C" fn proxy_on_done(context_id: u32) -> bool {
    DISPATCHER.with(|dispatcher| dispatcher.on_done(context_id))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_log(context_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.on_log(context_id))
}

#[no_mangle]
pub extern "C" fn proxy_on_delete(context_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.on_delete(context_id))
}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(context_id: u32, vm_configuration_size: usize) -> bool {
    DISPATCHER.with(|dispatcher| dispatcher.on_vm_start(context_id, vm_configuration_size))
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(context_id: u32, plugin_configuration_size: usize) -> bool {
    DISPATCHER.with(|dispatcher| dispatcher.on_configure(context_id, plugin_configuration_size))
}

#[no_mangle]
pub extern "C" fn proxy_on_tick(context_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.on_tick(context_id))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_queue_ready(context_id: u32, queue_id: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.on_queue_ready(context_id, queue_id))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_new_connection(context_id: u32) -> Action {
    DISPATCHER.with(|dispatcher| dispatcher.on_new_connection(context_id))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_downstream_data(
    context_id: u32,
    data_size: usize,
    end_of_stream: bool,
) -> Action {
    DISPATCHER
        .with(|dispatcher| dispatcher.on_downstream_data(context_id, data_size, end_of_stream))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_downstream_connection_close(context_id: u32, peer_type: PeerType) {
    DISPATCHER.with(|dispatcher| dispatcher.on_downstream_close(context_id, peer_type))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_upstream_data(
    context_id: u32,
    data_size: usize,
    end_of_stream: bool,
) -> Action {
    DISPATCHER.with(|dispatcher| dispatcher.on_upstream_data(context_id, data_size, end_of_stream))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_upstream_connection_close(context_id: u32, peer_type: PeerType) {
    DISPATCHER.with(|dispatcher| dispatcher.on_upstream_close(context_id, peer_type))
}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(
    context_id: u32,
    num_headers: usize,
    end_of_stream: bool,
) -> Action {
    DISPATCHER.with(|dispatcher| {
        dispatcher.on_http_request_headers(context_id, num_headers, end_of_stream)
    })
}

#[no_mangle]
pub extern "C" fn proxy_on_request_body(
    context_id: u32,
    body_size: usize,
    end_of_stream: bool,
) -> Action {
    DISPATCHER
        .with(|dispatcher| dispatcher.on_http_request_body(context_id, body_size, end_of_stream))
}

#[no_mangle]
pub extern "C" fn proxy_on_request_trailers(context_id: u32, num_trailers: usize) -> Action {
    DISPATCHER.with(|dispatcher| dispatcher.on_http_request_trailers(context_id, num_trailers))
}

#[no_mangle]
pub extern "C" fn proxy_on_response_headers(
    context_id: u32,
    num_headers: usize,
    end_of_stream: bool,
) -> Action {
    DISPATCHER.with(|dispatcher| {
        dispatcher.on_http_response_headers(context_id, num_headers, end_of_stream)
    })
}

#[no_mangle]
pub extern "C" fn proxy_on_response_body(
    context_id: u32,
    body_size: usize,
    end_of_stream: bool,
) -> Action {
    DISPATCHER
        .with(|dispatcher| dispatcher.on_http_response_body(context_id, body_size, end_of_stream))
}

#[no_mangle]
pub extern "C" fn proxy_on_response_trailers(context_id: u32, num_trailers: usize) -> Action {
    DISPATCHER.with(|dispatcher| dispatcher.on_http_response_trailers(context_id, num_trailers))
}

#[no_mangle]
pub extern "C" fn proxy_on_http_call_response(
    _context_id: u32,
    token_id: u32,
    num_headers: usize,
    body_size: usize,
    num_trailers: usize,
) {
    DISPATCHER.with(|dispatcher| {
        dispatcher.on_http_call_response(token_id, num_headers, body_size, num_trailers)
    })
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_grpc_receive_initial_metadata(
    _context_id: u32,
    token_id: u32,
    headers: u32,
) {
    DISPATCHER.with(|dispatcher| dispatcher.on_grpc_receive_initial_metadata(token_id, headers))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_grpc_receive(_context_id: u32, token_id: u32, response_size: usize) {
    DISPATCHER.with(|dispatcher| dispatcher.on_grpc_receive(token_id, response_size))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_grpc_receive_trailing_metadata(
    _context_id: u32,
    token_id: u32,
    trailers: u32,
) {
    DISPATCHER.with(|dispatcher| dispatcher.on_grpc_receive_trailing_metadata(token_id, trailers))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_grpc_close(_context_id: u32, token_id: u32, status_code: u32) {
    DISPATCHER.with(|dispatcher| dispatcher.on_grpc_close(token_id, status_code))
}

#[cfg(feature = "full")]
#[no_mangle]
pub extern "C" fn proxy_on_foreign_function(
    context_id: u32,
    function_id: u32,
    arguments_size: usize,
) {
    DISPATCHER
        .with(|dispatcher| dispatcher.on_foreign_function(context_id, function_id, arguments_size))
}

#[cfg(test)]
mod id_map_tests {
    use super::{IdMap, SortedIdMap};
    use std::collections::HashMap;

    /// `IdMap` answers every insert, remove, get and get_mut as the
    /// `HashMap` it replaced, over a sequence that repeats, reuses and
    /// misses ids.
    #[test]
    fn id_maps_behave_as_the_maps_they_replaced() {
        let mut ours = IdMap::default();
        let mut map: HashMap<u32, u32> = HashMap::new();
        let mut x: u32 = 12345;
        for step in 0..40_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let id = (x >> 16) % 16;
            match x % 4 {
                0 => assert_eq!(ours.remove(&id), map.remove(&id), "step {step}"),
                1 => assert_eq!(ours.get(&id), map.get(&id), "step {step}"),
                2 => {
                    if let (Some(a), Some(b)) = (ours.get_mut(&id), map.get_mut(&id)) {
                        *a += 1;
                        *b += 1;
                    }
                    assert_eq!(ours.get(&id), map.get(&id), "step {step}");
                }
                _ => assert_eq!(ours.insert(id, step), map.insert(id, step), "step {step}"),
            }
            assert_eq!(ours.0.len(), map.len());
        }
    }

    /// Requests that end in the order they began, thousands in flight: the
    /// map answers as `HashMap` does, and its vector never holds more than
    /// twice the live contexts (the empty slots are dropped as it goes, not
    /// left to grow with the requests served).
    #[test]
    fn sorted_id_maps_stay_bounded_when_the_oldest_ends_first() {
        let mut ours = SortedIdMap::default();
        let mut map: HashMap<u32, u32> = HashMap::new();
        for id in 1..=50_000u32 {
            assert_eq!(ours.insert(id, id), map.insert(id, id));
            if id > 3_000 {
                let old = id - 3_000 + (id % 7);
                assert_eq!(ours.remove(&old), map.remove(&old), "id {id}");
                assert_eq!(ours.get_mut(&(old + 1)).copied(), map.get(&(old + 1)).copied());
            }
            assert!(ours.slots.len() <= 2 * map.len(), "id {id}");
        }
    }

    /// `SortedIdMap` answers every insert, remove and get_mut as the
    /// `HashMap` it replaced: ids mostly new and rising (as the host
    /// numbers contexts), some repeated, older, missing or removed out of
    /// order; its vector stays sorted.
    #[test]
    fn sorted_id_maps_behave_as_the_maps_they_replaced() {
        let mut ours = SortedIdMap::default();
        let mut map: HashMap<u32, u32> = HashMap::new();
        let mut x: u32 = 54321;
        let mut next: u32 = 2;
        for step in 0..60_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let back = (x >> 16) % 64;
            let id = next.saturating_sub(back);
            match x % 8 {
                0 | 1 => assert_eq!(ours.remove(&id), map.remove(&id), "step {step}"),
                2 | 3 => {
                    if let (Some(a), Some(b)) = (ours.get_mut(&id), map.get_mut(&id)) {
                        *a += 1;
                        *b += 1;
                    }
                    assert_eq!(ours.get_mut(&id).copied(), map.get(&id).copied(), "step {step}");
                }
                4 | 5 | 6 => {
                    next += 1 + (x >> 29);
                    assert_eq!(ours.insert(next, step), map.insert(next, step), "step {step}");
                }
                _ => assert_eq!(ours.insert(id, step), map.insert(id, step), "step {step}"),
            }
            let live = ours.slots.iter().filter(|(_, v)| v.is_some()).count();
            assert_eq!((live, ours.empty), (map.len(), ours.slots.len() - live), "step {step}");
            assert!(ours.slots.len() <= 2 * live, "step {step}: the empty slots are dropped");
            assert!(ours.slots.windows(2).all(|w| w[0].0 < w[1].0), "step {step}");
        }
    }
}

#[cfg(test)]
mod sdk_panic_tests {
    use super::Dispatcher;

    /// The callbacks still refuse an id the host never created, with the
    /// SDK's own message, through the one panic function.
    #[test]
    #[should_panic(expected = "invalid context_id")]
    fn an_unknown_context_is_refused_with_the_sdks_message() {
        Dispatcher::new().on_delete(7);
    }

    #[test]
    #[should_panic(expected = "invalid context_id")]
    fn an_unknown_root_is_refused_with_the_sdks_message() {
        Dispatcher::new().on_tick(7);
    }
}
