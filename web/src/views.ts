/**
 * The page's panels as HTML rendered from the model: the patch stack, the patched functions (ftrace site
 * bytes, func_stack, who runs which version), the transition, RCU grace periods, faults and violations,
 * and the kernel log. Each is small enough to re-render whole when the model changed.
 */
import { dmesgTime, duration, esc, hexAddr, paintChips } from './format.js';
import { ORIGINAL, SimModel, SiteEntry } from './model.js';

const chip = (world: string): string => `<i class="chip" data-world="${esc(world)}"></i>`;

export function renderLegend(el: HTMLElement, m: SimModel): void {
  const items = [ORIGINAL, ...m.worlds].map(
    (w) => `<span class="legend-item">${chip(w)}${w === ORIGINAL ? 'original code' : esc(w)}</span>`,
  );
  items.push('<span class="legend-item"><i class="mk mk-redirect"></i>call redirected (sampled)</span>');
  items.push('<span class="legend-item"><i class="mk mk-switch"></i>task switched</span>');
  items.push('<span class="legend-item"><i class="mk mk-problem"></i>fault / violation</span>');
  items.push('<span class="legend-item"><i class="mk mk-band"></i>transition</span>');
  set(el, items.join(''), m);
}

export function renderPatches(el: HTMLElement, m: SimModel): void {
  if (m.patches.length === 0) return set(el, '<p class="empty">no livepatch loaded yet</p>', m);
  const html = m.patches.map((p, i) => {
    const flags = [
      `<span class="flag ${p.enabled ? 'on' : 'off'}">${p.enabled ? 'enabled' : 'disabled'}</span>`,
      m.transition?.patch === p.name && p.freedAt === null
        ? `<span class="flag transition">in transition: ${esc(m.transition.target)}</span>`
        : '',
      p.replace ? '<span class="flag replace">replace</span>' : '',
      p.forced ? '<span class="flag forced">forced</span>' : '',
      p.replacedBy ? `<span class="flag off">replaced by ${esc(p.replacedBy)}</span>` : '',
      p.freedAt !== null ? `<span class="freed-at">freed at ${dmesgTime(p.freedAt)}</span>` : '',
    ].join(' ');
    const objects = p.objects.map((o) => {
      const funcs = o.funcs.map((f) => {
        const tags = [
          f.nop ? `<span class="tag nop">NOP${f.replaces ? ` for ${esc(f.replaces)}` : ''}</span>` : '',
          f.onStack ? '<span class="tag stack">on func_stack</span>' : '<span class="tag off">not on func_stack</span>',
        ].join(' ');
        return `<li class="func${f.nop ? ' nop' : ''}" data-func="${esc(f.func)}" data-nop="${f.nop}">${esc(f.func)} ${tags}</li>`;
      });
      return `<li class="object${o.dynamic ? ' dynamic' : ''}" data-object="${esc(o.name)}"><span class="obj-name">${esc(o.name)}</span>${o.dynamic ? ' <span class="tag dyn">dynamic object</span>' : ''}<ul class="funcs">${funcs.join('')}</ul></li>`;
    });
    const freed = p.freed.map((f) => `<li>${dmesgTime(f.t)} freed ${esc(f.text)}</li>`);
    return `<li class="patch${p.freedAt !== null ? ' freed' : ''}" data-patch="${esc(p.name)}">
      <div class="patch-head"><span class="ord">${i + 1}.</span> ${chip(p.name)}<b>${esc(p.name)}</b> ${flags}</div>
      ${objects.length ? `<ul class="objects">${objects.join('')}</ul>` : ''}
      ${freed.length ? `<ul class="freed-list">${freed.join('')}</ul>` : ''}
    </li>`;
  });
  set(el, `<ol class="patch-stack">${html.join('')}</ol>`, m);
}

function siteState(bytes: string): { cls: string; text: string } {
  if (bytes.startsWith('cc')) return { cls: 'int3', text: 'int3: being poked (text_poke_bp)' };
  if (bytes.startsWith('e8')) return { cls: 'call', text: 'call: traced by ftrace' };
  if (bytes === '0f 1f 44 00 00') return { cls: 'nop', text: '5-byte NOP: not traced' };
  return { cls: 'other', text: 'other bytes' };
}

function versions(m: SimModel, site: SiteEntry): string {
  const by = new Map<string, string[]>();
  for (const t of m.tasks.values()) {
    if (t.state === 'dead') continue;
    const v = m.versionFor(site, t);
    by.set(v, [...(by.get(v) ?? []), t.comm]);
  }
  if (by.size === 0) return '';
  const parts = [...by].map(
    ([v, comms]) =>
      `<span class="ver" title="${esc(comms.join(', '))}">${chip(v)}${v === ORIGINAL ? 'original' : esc(v)} ×${comms.length}</span>`,
  );
  return `<div class="versions">a call now runs: ${parts.join(' ')}</div>`;
}

export function renderSites(el: HTMLElement, m: SimModel): void {
  const sites = [...m.sites.values()].sort((a, b) => (a.func < b.func ? -1 : a.func > b.func ? 1 : 0));
  if (sites.length === 0) return set(el, '<p class="empty">no ftrace site patched yet</p>', m);
  const html = sites.map((s) => {
    const st = siteState(s.bytes);
    const bytes = s.bytes
      .split(' ')
      .map((b, i) => `<span class="byte${i === 0 ? ` first ${st.cls}` : ''}">${esc(b)}</span>`)
      .join('');
    const pokes = s.pokes.map(
      (p) => `<span class="poke" title="${dmesgTime(p.t)}">${esc(p.phase)}: <code>${esc(p.old)}</code> → <code>${esc(p.new)}</code></span>`,
    );
    const stack =
      s.stack.length === 0
        ? '<span class="empty">empty</span>'
        : s.stack
            .map((e) => `<span class="entry${e.nop ? ' nop' : ''}">${chip(e.patch)}${esc(e.patch)}${e.nop ? ' (NOP)' : ''}</span>`)
            .join(' › ');
    return `<div class="site" data-func="${esc(s.func)}" data-bytes="${esc(s.bytes)}">
      <div class="site-head"><b>${esc(s.func)}</b> <code class="addr">${hexAddr(s.addr)}</code>
        <span class="bytes">${bytes}</span> <span class="site-state ${st.cls}">${st.text}${s.registered ? ', ftrace ops registered' : ''}</span></div>
      <div class="stack">func_stack (newest first): ${stack}</div>
      ${versions(m, s)}
      ${pokes.length ? `<div class="pokes">last change ${dmesgTime(s.pokes[0].t)}: ${pokes.join(' · ')}</div>` : ''}
    </div>`;
  });
  set(el, html.join(''), m);
}

export function renderTransition(el: HTMLElement, m: SimModel): void {
  const tr = m.transition;
  el.dataset.state = tr ? 'running' : 'idle';
  const parts: string[] = [];
  if (tr) {
    const done = m.switchedCount();
    const pct = tr.total > 0 ? Math.round((done / tr.total) * 100) : 0;
    parts.push(
      `<div class="tr-now">${chip(tr.patch)}<b>${esc(tr.patch)}</b> → ${esc(tr.target)} · ${esc(tr.outcome)} · since ${dmesgTime(tr.start)} (${duration(m.now - tr.start)})</div>`,
    );
    parts.push(
      `<div class="progress"><progress max="${Math.max(1, tr.total)}" value="${done}"></progress> <span class="count">${done}/${tr.total} tasks switched (${pct}%)</span></div>`,
    );
    const blocking = m.blockingTasks();
    const probe = m.blocking && m.blocking.patch === tr.patch && m.blocking.t >= tr.start ? m.blocking : null;
    if (blocking.length > 0) {
      const rows = blocking.map((t) => {
        const read = probe?.tasks.find((x) => x.pid === t.pid);
        const where = read ? read.frames.map(esc).join(' ← ') : t.func ? `${esc(t.state)} in ${esc(t.func)}` : esc(t.state);
        return `<li class="blocking-task" data-pid="${t.pid}"><b>${esc(t.comm)}:${t.pid}</b> <span class="stack-frames">${where}</span></li>`;
      });
      parts.push(
        `<div class="blocking">waiting for${probe ? '' : ' (stacks are read from a live run only)'}:<ul>${rows.join('')}</ul></div>`,
      );
    }
  } else parts.push('<div class="tr-now">no transition in progress</div>');
  const past = m.transitions
    .filter((t) => t.end !== null)
    .slice(-8)
    .reverse();
  if (past.length > 0) {
    const rows = past.map(
      (t) =>
        `<tr data-patch="${esc(t.patch)}" data-outcome="${esc(t.outcome)}"><td>${chip(t.patch)}${esc(t.patch)}</td><td>${esc(t.target)}</td><td>${dmesgTime(t.start)}</td><td>${duration((t.end as number) - t.start)}</td><td>${esc(t.outcome)}</td></tr>`,
    );
    parts.push(
      `<table class="tr-history"><thead><tr><th>patch</th><th>target</th><th>start</th><th>took</th><th>outcome</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  set(el, parts.join(''), m);
}

export function renderRcu(el: HTMLElement, m: SimModel): void {
  const open = m.gps.filter((g) => g.end === null);
  const last = m.gps.slice(-6).reverse();
  const head = `<div>${m.gps.length} grace period${m.gps.length === 1 ? '' : 's'}${open.length ? `, <b>${open.length} in progress</b> (${esc(open.map((g) => g.reason).join(', '))})` : ''}</div>`;
  const rows = last.map(
    (g) =>
      `<li>${dmesgTime(g.start)} ${esc(g.reason)}: ${g.end === null ? 'in progress' : `ended after ${duration(g.end - g.start)}`}</li>`,
  );
  set(el, head + (rows.length ? `<ul class="gps">${rows.join('')}</ul>` : ''), m);
}

export function renderProblems(el: HTMLElement, m: SimModel): void {
  el.dataset.count = String(m.problems.length);
  if (m.problems.length === 0) return set(el, '<p class="empty">no fault, no violation</p>', m);
  const rows = m.problems
    .slice(-50)
    .map(
      (p) => `<li class="problem ${p.kind}">${dmesgTime(p.t)} ${p.cpu === null ? '' : `cpu${p.cpu} `}<b>${p.kind}</b> ${esc(p.text)}</li>`,
    );
  set(el, `<ul>${rows.join('')}</ul>`, m);
}

/** `/regex/` or a plain, case-insensitive substring. Returns null for a bad regular expression. */
export function logMatcher(filter: string): ((text: string) => boolean) | null {
  const f = filter.trim();
  if (f === '') return () => true;
  const re = /^\/(.+)\/([a-z]*)$/.exec(f);
  if (re) {
    try {
      const r = new RegExp(re[1], re[2].includes('i') ? 'i' : '');
      return (s) => r.test(s);
    } catch {
      return null;
    }
  }
  const needle = f.toLowerCase();
  return (s) => s.toLowerCase().includes(needle);
}

const LOG_SHOWN = 2000;

export function renderLog(el: HTMLElement, m: SimModel, filter: string): { shown: number; total: number; bad: boolean } {
  const match = logMatcher(filter);
  const lines = match ? m.log.filter((l) => match(l.text)) : [];
  const shown = lines.slice(-LOG_SHOWN);
  const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
  el.textContent = shown.map((l) => `${dmesgTime(l.t)} ${l.text}`).join('\n');
  if (atBottom) el.scrollTop = el.scrollHeight;
  return { shown: shown.length, total: m.log.length, bad: match === null };
}

const rendered = new WeakMap<HTMLElement, string>();

/** Replaces a panel's content only when it changed (keeps hover and selection stable). */
function set(el: HTMLElement, html: string, m: SimModel): void {
  if (rendered.get(el) === html) return;
  rendered.set(el, html);
  el.innerHTML = html;
  paintChips(el, m.worlds);
}
