from __future__ import annotations

from typing import Optional

import libcst as cst

from .. import catalogue
from ..analysis.traversal import walk
from ..analysis.twins import twin_names
from ..catalogue import Framework, Style
from ..rule import Report, Rule

# jax.random functions that do not consume randomness from their key
_NON_CONSUMING = frozenset({"PRNGKey", "key", "key_data", "wrap_key_data", "key_impl", "fold_in", "clone",
                            "default_prng_impl"})
_KEY_MAKERS = frozenset({"PRNGKey", "key", "split", "fold_in", "clone"})
_INIT_METHODS = ("init", "init_with_output")


def _jax_random(facts, func) -> Optional[str]:
    for name in facts.names(func):
        if name.startswith("jax.random.") and name.count(".") == 2:
            return name.rsplit(".", 1)[-1]
    return None


def _key_identity(facts, bindings):
    """What a name's key is, for telling two draws from one key: the key it copies (``k = key``),
    or the stored key it copies (``key = self.rng``, see ``_stored_key``), or its own bindings."""
    source = _copied_from(facts, bindings)
    if len(source) == 1 and source[0].kind == "assign" and source[0].index is None \
            and isinstance(source[0].value, cst.Attribute):
        stored = _stored_key(facts, source[0].value)
        if stored is not None:
            return stored
    return frozenset(id(b) for b in source)


def _copied_from(facts, bindings, depth: int = 0):
    """The bindings of the key a name copies (``k = key``: the same key under another name, not a
    fresh one), followed through copies of copies; the name's own bindings where it is no copy, or
    where the copied name is a loop variable (kept apart, as loop variables are)."""
    if depth > 4 or len(bindings) != 1:
        return bindings
    binding = bindings[0]
    if binding.kind != "assign" or binding.index is not None or not isinstance(binding.value, cst.Name):
        return bindings
    source = facts.collected.resolver.lookup(binding.value)
    if not source or any(b.kind == "loop" for b in source):
        return bindings
    return _copied_from(facts, source, depth + 1)


def _key_argument(call: cst.Call) -> Optional[cst.BaseExpression]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in ("key", "rng", "rngs"):
            return arg.value
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    return positional[0] if positional else None


class ReusedPrngKey(Rule):
    """The same JAX PRNG key passed to two random or init calls without a split.

    ## What it does
    Flags a call that consumes a JAX key (`jax.random.normal/uniform/split/...`, a Flax
    `model.init(key, x)`, an initialiser `init_fn(key, shape)`) when the same key, with no new
    assignment in between, was already consumed by another such call, or when it is consumed inside
    a loop although it was created outside it. A key stored on `self` in `__init__`/`setup` (and
    changed nowhere else) is one key for every method that draws from it, and a call of a helper
    that draws from its key parameter consumes the key it is given. Reported at the call that
    reuses the key.
    In a loop or comprehension, the code's own functions count too (`[init(key, shape) for _ in
    range(n)]`) when every argument is the same in each iteration, and so do the keys of a
    `model.init({'params': key}, x)` dict. `jax.random.split(key, n)` iterated, `fold_in(key, i)`,
    and a key rebound in the loop are fresh keys and not flagged. Nor is the same `init` with the
    same key and arguments whose result is stored as a target network's
    (`params=net.init(key, x), target_params=net.init(key, x)`): identical on purpose, the target
    starts as a copy of the online network. Two *different* models initialised with one key
    (`actor.init(key, obs)`, `critic.init(key, obs)`) are separate networks and not flagged; the
    same model initialised twice (an ensemble, twin critics) and a key reused by the draws inside
    one model are.

    ## Why is this bad?
    JAX random numbers are a pure function of the key: the same key gives the same numbers. Two
    weight matrices drawn with one key are identical (or, with different shapes, strongly
    correlated); a loop that reuses its key gives every layer the same weights; initialising a model
    with the key that also drew its dummy input correlates the two.

    ## Example
    ```python
    import jax

    def init_params(key, sizes):
        return [jax.random.normal(key, (m, n)) * (2 / m) ** 0.5 for m, n in zip(sizes[:-1], sizes[1:])]
    ```

    ## Use instead
    ```python
    import jax

    def init_params(key, sizes):
        keys = jax.random.split(key, len(sizes) - 1)
        return [jax.random.normal(k, (m, n)) * (2 / m) ** 0.5 for k, m, n in zip(keys, sizes[:-1], sizes[1:])]
    ```

    ## Known problems
    Not checked in test files (`test_*.py`, `*_test.py`): tests draw inputs, not weights, and one
    key for several inputs is a common way to keep them reproducible (optax's own tests do it).

    ## Frameworks
    JAX/Flax.
    """

    code = "INI304"
    name = "reused-prng-key"
    message = "key `{key}` was already consumed by {first}: {what}; split it first"
    frameworks = ("jax",)
    # tests draw inputs (not weights) from one key on purpose, for reproducible cases
    skip_test_files = True

    def check(self, facts):
        consumers = []  # (site, key node, label)
        in_loops = []  # calls in a loop that pass a name as their key and that the catalogue does not know
        labelled = [(site, self._consumer(facts, site.node)) for site in facts.collected.calls]
        helpers = _drawing_helpers(facts, labelled)
        for site, label in labelled:
            call = site.node
            key = _key_argument(call) if label else None
            if label is None and helpers:
                label, key = _helper_draw(facts, helpers, call)
            if isinstance(key, cst.Name) or (isinstance(key, cst.Attribute) and _stored_key(facts, key) is not None):
                consumers.append((site, key, label))
            elif isinstance(key, cst.Dict) and label.endswith(".init"):
                # model.init({'params': key, 'dropout': key}, x): every key in the dict is consumed
                consumers.extend((site, element.value, label) for element in key.elements
                                 if isinstance(element, cst.DictElement) and isinstance(element.value, cst.Name))
            elif label is None and site.loops and call.args and not facts.names(call.func):
                in_loops.append(site)
        if not consumers:
            return
        established = self._established_keys(facts, consumers)
        yield from self._invariant_calls_in_loops(facts, in_loops, established)
        seen = {}
        slots = None  # what each call's result is stored as, once a repeated init call needs it
        for site, key, label in sorted(consumers, key=lambda c: c[0].seq):
            if isinstance(key, cst.Attribute):  # self.key, set once in __init__/setup: one key for every use
                identity = _stored_key(facts, key)
                key_text = facts.module.code_for_node(key)
                earlier = [first for first in seen.get(identity, []) if not first[0].exclusive_with(site)]
                if earlier:
                    yield Report(site.node, {"key": key_text, "first": f"an earlier {earlier[0][1]} call",
                                             "what": "both calls draw from the same random bits (the key is "
                                                     "set once, when the object is made)"}, "jax")
                    continue
                seen.setdefault(identity, []).append((site, label))
                if site.loops:
                    yield Report(site.node, {"key": key_text, "first": "this call in the previous iteration",
                                             "what": "every iteration draws the same random numbers"}, "jax")
                continue
            if label.endswith(".init") and key.value not in established:
                continue
            bindings = facts.collected.resolver.lookup(key)
            if not bindings or any(b.kind == "loop" for b in bindings):
                continue  # for k in keys: a fresh key each iteration
            identity = _key_identity(facts, bindings)
            earlier = [first for first in seen.get(identity, []) if not first[0].exclusive_with(site)]
            if earlier and label.endswith(".init") and all(e[1].endswith(".init") and e[1] != label
                                                            for e in earlier):
                # other models' init with this key: separate networks, whose sharing bits does no
                # harm (one model's layers, or an ensemble of one model, must differ)
                seen[identity].append((site, label))
                continue
            if earlier and label.endswith(".init") and earlier[0][1] == label:
                if slots is None:
                    slots = _result_slots(facts)
                if _target_copy(facts, earlier[0][0].node, site.node, slots):
                    continue
            if earlier:
                # one key, one stream of bits: the same sampler repeats its numbers, another one
                # (normal, then bernoulli; he_normal, then lecun_normal) turns them into correlated ones
                what = ("both calls draw from the same random bits (the same numbers where the shapes match)"
                        if earlier[0][1] == label and label != "initialiser" else
                        "both calls draw from the same random bits, so their results are correlated")
                yield Report(site.node, {"key": key.value, "first": f"an earlier {earlier[0][1]} call",
                                         "what": what}, "jax")
                continue
            seen.setdefault(identity, []).append((site, label))
            if self._reused_in_loop(facts, site, key.value, bindings):
                yield Report(site.node, {"key": key.value, "first": "this call in the previous iteration",
                                         "what": "every iteration draws the same random numbers"}, "jax")

    def _invariant_calls_in_loops(self, facts, sites, established):
        """``[init(key, shape) for _ in range(n)]`` with ``init`` the code's own function: a known
        key passed first (or as ``key=``/``rng=``) to a call in a loop whose arguments are all the
        same in every iteration. A function of its arguments returns the same thing every time."""
        spans = facts.collected.loop_span
        for site in sites:
            key = _key_argument(site.node)
            if not isinstance(key, cst.Name) or key.value not in established:
                continue
            bindings = facts.collected.resolver.lookup(key)
            if not bindings or any(b.kind == "loop" for b in bindings):
                continue  # for k in keys: a fresh key each iteration
            if _varies(facts, site, spans):
                continue
            yield Report(site.node, {"key": key.value, "first": "this call in the previous iteration",
                                     "what": "every iteration gets the same key and the same arguments, so the "
                                             "same result"}, "jax")

    @staticmethod
    def _consumer(facts, call: cst.Call) -> Optional[str]:
        name = _jax_random(facts, call.func)
        if name is not None:
            return None if name in _NON_CONSUMING else f"jax.random.{name}"
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _INIT_METHODS:
            return f"{facts.module.code_for_node(func.value)}.init"
        if isinstance(func, cst.Name):  # he = nn.initializers.he_normal(); he(key, shape)
            values = facts.collected.resolver.assigned_values(func)
            func = values[0][0] if len(values) == 1 else func
        if isinstance(func, cst.Call):  # nn.initializers.normal(0.02)(key, shape)
            for qualified in facts.names(func.func):
                entry = catalogue.initializer(qualified)
                if entry is not None and entry.framework is Framework.JAX and entry.style is Style.FACTORY:
                    return "initialiser"
        return None

    @staticmethod
    def _established_keys(facts, consumers) -> set:
        """Names the code shows are keys: made by jax.random.PRNGKey/split/..., or drawn from."""
        out = {key.value for _, key, label in consumers if label.startswith("jax.random.")}
        for scope in [facts.collected.module_scope] + [s for _, s in facts.collected.functions]:
            for name, bindings in scope.bindings.items():
                for binding in bindings:
                    value = binding.value
                    if binding.kind == "assign" and isinstance(value, cst.Call) \
                            and _jax_random(facts, value.func) in _KEY_MAKERS:
                        out.add(name)
        return out

    @staticmethod
    def _reused_in_loop(facts, site, name, bindings) -> bool:
        """Consumed in a loop that never rebinds the key (``key, sub = split(key)`` later in the
        body rebinds it for the next iteration, so every binding in the scope counts)."""
        spans = facts.collected.loop_span
        scope_bindings = [b for binding in bindings for b in binding.scope.bindings.get(name, [])]
        for loop in site.loops:
            start, end = spans.get(loop, (0, 0))
            if not any(start <= b.seq <= end for b in scope_bindings):
                return True
        return False



def _result_slots(facts) -> dict:
    """id(call) -> the name its result is stored under: the keyword it is passed as
    (``target_params=net.init(...)``) or the name or attribute it is assigned to."""
    out = {}
    for node in walk(facts.module):
        if isinstance(node, cst.Arg) and node.keyword is not None and isinstance(node.value, cst.Call):
            out[id(node.value)] = node.keyword.value
        elif isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.value, cst.Call):
            target = node.targets[0].target
            if isinstance(target, (cst.Name, cst.Attribute)):
                out[id(node.value)] = target.value if isinstance(target, cst.Name) else target.attr.value
    return out


def _target_copy(facts, first: cst.Call, second: cst.Call, slots: dict) -> bool:
    """``params=net.init(key, x), target_params=net.init(key, x)``: the same init with the same
    arguments, one of the two stored as a target network's. Identical on purpose: the target
    starts as a copy of the online network (cleanrl's DQN/TD3/DDPG in JAX)."""
    code = facts.module.code_for_node
    if "".join(code(first).split()) != "".join(code(second).split()):
        return False
    return any(twin_names(slots.get(id(call), "")) for call in (first, second))


# methods that run once, when an object is made: a key they store is the object's one key
_SETUP_METHODS = frozenset({"__init__", "setup", "build", "__post_init__"})


def _stored_key(facts, node: cst.Attribute):
    """``self.key`` set only in ``__init__``/``setup``/``build`` (of its class or an in-file base or
    subclass) to a new key (``jax.random.PRNGKey(seed)``, ``split(...)``, a parameter), or a field of
    a Flax module or dataclass that no code changes (one key per instance, whoever constructs it):
    an identity for it, or None when the code changes it elsewhere (``self.key, sub =
    split(self.key)``)."""
    flow = facts.flow
    cls = flow.instance_class(node.value)
    if cls is None:
        return None
    if flow.attribute_values(node) is None and not flow.fixed_field(cls, node.attr.value):
        return None  # changed somewhere, or a field whose constructions this file does not show
    family = flow.family(cls)
    attr = node.attr.value
    for member in family:
        for value, function in facts.collected.self_attrs.get((member, attr), []):
            if function.name.value not in _SETUP_METHODS:
                return None
            if isinstance(value, cst.Call) and _jax_random(facts, value.func) in _KEY_MAKERS:
                continue
            if isinstance(value, cst.Name) and any(b.kind == "param" for b in facts.collected.resolver.lookup(value)):
                continue
            return None
    return ("attr", frozenset(id(c) for c in family), attr)


def _drawing_helpers(facts, labelled) -> dict:
    """Functions of this file that draw from one of their parameters as a key, unchanged
    (``def dense(key, m, n): return jax.random.normal(key, (m, n)) * ...``): fn -> that parameter."""
    out = {}
    for site, label in labelled:
        fn = site.scope.function
        if fn is None or fn in out or label is None or not label.startswith("jax.random."):
            continue
        key = _key_argument(site.node)
        if not isinstance(key, cst.Name):
            continue
        bindings = facts.collected.resolver.lookup(key)
        if len(bindings) == 1 and bindings[0].kind == "param" and bindings[0].scope is site.scope \
                and bindings[0].node in (*fn.params.posonly_params, *fn.params.params):
            out[fn] = bindings[0].node
    return out


def _helper_draw(facts, helpers, call: cst.Call):
    """``(label, key argument)`` for a call of a drawing helper, else ``(None, None)``."""
    fn = facts.flow.helper_of(call) if helpers else None
    param = helpers.get(fn) if fn is not None else None
    if param is None or any(a.star for a in call.args):
        return None, None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == param.name.value:
            return f"{fn.name.value}()", arg.value
    positional = [a.value for a in call.args if a.keyword is None]
    index = [*fn.params.posonly_params, *fn.params.params].index(param)
    if index < len(positional):
        return f"{fn.name.value}()", positional[index]
    return None, None


def _varies(facts, site, spans) -> bool:
    """Some argument of the call can change from one iteration of its innermost loop to the next:
    it mentions that loop's variable or a name assigned in its body, or calls something (whose
    result may differ)."""
    loop = site.loops[-1]
    start, end = spans.get(loop, (0, 0))
    targets = _loop_targets(loop)
    for arg in site.node.args:
        for node in walk(arg.value):
            if isinstance(node, cst.Call):
                return True
            if isinstance(node, cst.Name):
                if node.value in targets:
                    return True
                if any(start <= b.seq <= end for b in facts.collected.resolver.lookup(node)):
                    return True
    return False


def _loop_targets(loop) -> set:
    """The names a loop binds each iteration (a while loop binds none itself)."""
    if isinstance(loop, cst.For):
        return {n.value for n in walk(loop.target) if isinstance(n, cst.Name)}
    out = set()
    clause = getattr(loop, "for_in", None)
    while clause is not None:
        out |= {n.value for n in walk(clause.target) if isinstance(n, cst.Name)}
        clause = clause.inner_for_in
    return out
