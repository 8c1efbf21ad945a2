/**
 * Where a JSON text first goes wrong, as a 0-based character offset. JSON.parse only sometimes says
 * (Node 20's V8 gives "at position N" for some errors and none for others, e.g. an unexpected token), and
 * `serve --replay` reports bad lines as FILE:LINE:COL, so this walks the grammar (RFC 8259) itself.
 * Returns -1 for valid JSON.
 */
export function jsonErrorOffset(s: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  // Each parser returns true when it consumed a whole value; on false, `i` is at the offending character.
  const value = (): boolean => {
    ws();
    const c = s[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const lit of ['true', 'false', 'null']) {
      if (c === lit[0]) {
        for (let k = 0; k < lit.length; k++, i++) if (s[i] !== lit[k]) return false;
        return true;
      }
    }
    return false;
  };
  const object = (): boolean => {
    i++;
    ws();
    if (s[i] === '}') return (i++, true);
    for (;;) {
      ws();
      if (s[i] !== '"' || !string()) return false;
      ws();
      if (s[i] !== ':') return false;
      i++;
      if (!value()) return false;
      ws();
      if (s[i] === '}') return (i++, true);
      if (s[i] !== ',') return false;
      i++;
    }
  };
  const array = (): boolean => {
    i++;
    ws();
    if (s[i] === ']') return (i++, true);
    for (;;) {
      if (!value()) return false;
      ws();
      if (s[i] === ']') return (i++, true);
      if (s[i] !== ',') return false;
      i++;
    }
  };
  const string = (): boolean => {
    i++;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) return (i++, true);
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (!/[0-9a-fA-F]/.test(s[i + k] ?? '')) return ((i += k), false);
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return ((i += 1), false);
      } else i++;
    }
    return false;
  };
  const number = (): boolean => {
    if (s[i] === '-') i++;
    if (s[i] === '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (s[i] >= '0' && s[i] <= '9') i++;
    else return false;
    if (s[i] === '.') {
      i++;
      if (!(s[i] >= '0' && s[i] <= '9')) return false;
      while (s[i] >= '0' && s[i] <= '9') i++;
    }
    if (s[i] === 'e' || s[i] === 'E') {
      i++;
      if (s[i] === '+' || s[i] === '-') i++;
      if (!(s[i] >= '0' && s[i] <= '9')) return false;
      while (s[i] >= '0' && s[i] <= '9') i++;
    }
    return true;
  };
  if (!value()) return Math.min(i, s.length);
  ws();
  return i < s.length ? i : -1;
}
