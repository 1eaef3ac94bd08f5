# A checker of Chrome traces (the Trace Event Format): prints one line per problem, nothing for a
# well-formed trace.   jq -r -f trace_check.jq TRACE.json
# The trace is the JSON Object Format ({"traceEvents": [...], "displayTimeUnit": "ms" or "ns",
# ...}) or the JSON Array Format (the events alone). Every event is an object with
#   ph    one of the format's phases;
#   name  a string (an E may leave it out: it closes the B before it);
#   pid   a number; tid a number for the phases drawn on a thread (B E X s t f P, instants of
#         thread scope, the thread's metadata);
#   ts    a number, in microseconds (metadata M has none); dur, tdur, tts, when given, numbers;
#   args  an object when given;
# and by phase: X a dur >= 0; i/I a scope s, when given, of g, p or t; C args of numbers only,
# at least one; flows (s t f) and async events (b n e S T p F) an id or id2; M one of the
# metadata names with its argument (process_name, thread_name: args.name a string; *_sort_index:
# args.sort_index a number; process_labels: args.labels a string).
# Across events: on each thread, B and E balance, each E at or after its B; complete slices (X)
# nest, none starting inside another and ending after it (0.5 ns of rounding allowed); every
# flow start s has a finish f of the same cat and id at or after it, and every f a start.

def num: type == "number";
def str: type == "string";
def oneof($xs): . as $x | $xs | any(. == $x);
def when(cond; problem): if cond then problem else empty end;
def phases: ["B", "E", "X", "i", "I", "C", "b", "n", "e", "S", "T", "p", "F", "s", "t", "f", "P",
  "N", "O", "D", "M", "V", "v", "R", "c", "(", ")"];
def on_thread:
  (.ph | oneof(["B", "E", "X", "s", "t", "f", "P"]))
  or ((.ph | oneof(["i", "I"])) and ((.s // "t") == "t"))
  or (.ph == "M" and (.name | str) and (.name | startswith("thread_")));
def thread: "pid \(.pid) tid \(.tid)";
def flow: "flow \(.[0].cat | tojson) id \(.[0].id // .[0].id2 | tojson)";

def metadata_problems:
  if (.name | oneof(["process_name", "thread_name"])) then
    when(.args.name | str | not; "\(.name) without a string args.name")
  elif (.name | oneof(["process_sort_index", "thread_sort_index"])) then
    when(.args.sort_index | num | not; "\(.name) without a numeric args.sort_index")
  elif .name == "process_labels" then
    when(.args.labels | str | not; "process_labels without a string args.labels")
  else "unknown metadata event \(.name | tojson)" end;

def event_problems:
  if type != "object" then "not an object"
  elif (.ph | str | not) then "no phase (ph)"
  elif (.ph | oneof(phases) | not) then "unknown phase \(.ph | tojson)"
  else
    when(.ph != "E" and (.name | str | not); "no name"),
    when(.pid | num | not; "pid \(.pid | tojson) is not a number"),
    when(on_thread and (.tid | num | not); "tid \(.tid | tojson) is not a number"),
    when((.ph != "M" or has("ts")) and (.ts | num | not); "ts \(.ts | tojson) is not a number"),
    (.dur, .tdur, .tts | select(. != null and (num | not))
     | "a duration or time \(tojson) that is not a number"),
    when(has("args") and (.args | type) != "object"; "args is not an object"),
    when(.ph == "X" and ((.dur | num | not) or .dur < 0);
      "a complete event (X) without a dur >= 0"),
    when((.ph | oneof(["i", "I"])) and has("s") and (.s | oneof(["g", "p", "t"]) | not);
      "instant scope \(.s | tojson) is not g, p or t"),
    when(.ph == "C" and ((.args | type) != "object" or (.args | length) == 0
        or (.args | [.[] | num] | all | not));
      "a counter (C) whose args are not numbers"),
    when((.ph | oneof(["s", "t", "f", "b", "n", "e", "S", "T", "p", "F"]))
        and (has("id") or has("id2") | not);
      "a \(.ph) event without an id"),
    (select(.ph == "M") | metadata_problems)
  end;

# B and E balance on each thread (in time order)
def balance_problems:
  map(select(.ph == "B" or .ph == "E")) | group_by([.pid, .tid])[]
  | sort_by(.ts) | (.[0] | thread) as $t
  | reduce .[] as $e ({depth: 0, bad: []};
      if $e.ph == "B" then .depth += 1
      elif .depth == 0 then .bad += ["an E at ts \($e.ts) closes no B"]
      else .depth -= 1 end)
  | (.bad[] | "\($t): \(.)"), when(.depth > 0; "\($t): \(.depth) B without an E");

# complete slices (X) nest on each thread
def nesting_problems:
  map(select(.ph == "X" and (.dur | num))) | group_by([.pid, .tid])[]
  | sort_by(.ts, -.dur)
  | reduce .[] as $e ({stack: [], bad: []};
      .stack |= map(select(.ts + .dur > $e.ts + 0.0005))
      | if (.stack | length) > 0 and (.stack[-1].ts + .stack[-1].dur < $e.ts + $e.dur - 0.0005)
        then .bad += ["\($e | thread): slice \($e.name | tojson) at ts \($e.ts) starts inside"
          + " \(.stack[-1].name | tojson) and ends after it"]
        else . end
      | .stack += [$e])
  | .bad[];

# each flow start has its finish at or after it, each finish its start
def flow_problems:
  map(select(.ph == "s" or .ph == "f")) | group_by([.cat, (.id // .id2)])[]
  | (map(select(.ph == "s")) | length) as $starts
  | (map(select(.ph == "f")) | length) as $ends
  | if $starts == 0 then "\(flow): a finish (f) without a start (s)"
    elif $ends == 0 then "\(flow): a start (s) without a finish (f)"
    elif (map(select(.ph == "f") | .ts) | max) < (map(select(.ph == "s") | .ts) | min)
    then "\(flow): finished before it started"
    else empty end;

(if type == "object" then .traceEvents elif type == "array" then . else null end) as $events
| if ($events | type) != "array" then
    "not a trace: neither an array of events nor an object with a traceEvents array"
  else
    when(type == "object" and has("displayTimeUnit")
        and (.displayTimeUnit | oneof(["ms", "ns"]) | not);
      "displayTimeUnit \(.displayTimeUnit | tojson) is neither ms nor ns"),
    ($events | to_entries[] | .key as $i | .value | event_problems | "event \($i): \(.)"),
    # the checks across events take the events with a numeric ts and pid
    ([$events[] | select(type == "object" and (.ts | num) and (.pid | num))]
     | balance_problems, nesting_problems, flow_problems)
  end
