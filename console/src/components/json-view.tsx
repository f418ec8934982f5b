// A payload as formatted, collapsible JSON. Fully expanded, the text of the view is exactly the
// payload's JSON indented by two spaces (keys in their order, numbers as sent); the toggles carry no
// text of their own. Copy puts that same text on the clipboard.
import { Fragment, type ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { lineCount, quote, stringify, type Json } from '../json.ts';

/** Payloads up to this many lines open fully; larger ones open their first two levels. */
const OPEN_LINES = 60;

const pathsDeeperThan = (node: Json, depth: number, path = '$', level = 0, out: string[] = []): string[] => {
  if (node.kind === 'object' || node.kind === 'array') {
    if (level >= depth && (node.kind === 'object' ? node.entries.length : node.items.length) > 0) out.push(path);
    if (node.kind === 'object') node.entries.forEach(([key, child]) => pathsDeeperThan(child, depth, `${path}.${quote(key)}`, level + 1, out));
    else node.items.forEach((child, index) => pathsDeeperThan(child, depth, `${path}[${index}]`, level + 1, out));
  }
  return out;
};

const copyText = async (text: string): Promise<void> => {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (an insecure origin): the old way.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
};

export const CopyButton = ({ text, label }: { text: () => string; label: string }) => {
  const [done, setDone] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      class="small"
      aria-label={label}
      onClick={async () => {
        try {
          await copyText(text());
          setDone('copied');
        } catch {
          setDone('failed');
        }
        setTimeout(() => setDone('idle'), 1500);
      }}
    >
      <span aria-live="polite">{done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : 'Copy'}</span>
    </button>
  );
};

export const JsonView = ({ value, label }: { value: Json; label: string }) => {
  const initial = useMemo(() => new Set(lineCount(value) <= OPEN_LINES ? [] : pathsDeeperThan(value, 2)), [value]);
  const [collapsed, setCollapsed] = useState<Set<string>>(initial);
  const toggle = (path: string): void =>
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const render = (node: Json, path: string, depth: number, name: string): ComponentChildren => {
    switch (node.kind) {
      case 'string':
        return <span class="j-str">{quote(node.value)}</span>;
      case 'number':
        return <span class="j-num">{node.text}</span>;
      case 'boolean':
        return <span class="j-bool">{String(node.value)}</span>;
      case 'null':
        return <span class="j-null">null</span>;
      default: {
        const isObject = node.kind === 'object';
        const size = isObject ? node.entries.length : node.items.length;
        const [open, close] = isObject ? ['{', '}'] : ['[', ']'];
        if (size === 0) return <span class="j-punct">{open + close}</span>;
        const shut = collapsed.has(path);
        const pad = '  '.repeat(depth + 1);
        const button = (
          <button
            type="button"
            class="j-toggle"
            aria-expanded={!shut}
            aria-label={`${shut ? 'Expand' : 'Collapse'} ${name}`}
            onClick={() => toggle(path)}
          />
        );
        if (shut) {
          return (
            <>
              {button}
              <span class="j-punct">{open}</span>
              <span class="j-more">
                {' '}
                {size} {isObject ? (size === 1 ? 'key' : 'keys') : size === 1 ? 'item' : 'items'}{' '}
              </span>
              <span class="j-punct">{close}</span>
            </>
          );
        }
        const children = isObject
          ? node.entries.map(([key, child], index) => (
              <Fragment key={index}>
                {`\n${pad}`}
                <span class="j-key">{quote(key)}</span>
                {': '}
                {render(child, `${path}.${quote(key)}`, depth + 1, `${name}.${key}`)}
                {index < size - 1 ? ',' : ''}
              </Fragment>
            ))
          : node.items.map((child, index) => (
              <Fragment key={index}>
                {`\n${pad}`}
                {render(child, `${path}[${index}]`, depth + 1, `${name}[${index}]`)}
                {index < size - 1 ? ',' : ''}
              </Fragment>
            ));
        return (
          <>
            {button}
            <span class="j-punct">{open}</span>
            {children}
            {`\n${'  '.repeat(depth)}`}
            <span class="j-punct">{close}</span>
          </>
        );
      }
    }
  };

  const anyCollapsed = collapsed.size > 0;
  return (
    <div class="json-view">
      <div class="json-tools">
        <CopyButton text={() => stringify(value, 2)} label={`Copy ${label} as JSON`} />
        {(value.kind === 'object' || value.kind === 'array') && pathsDeeperThan(value, 0).length > 1 && (
          <button
            type="button"
            class="small"
            onClick={() => setCollapsed(anyCollapsed ? new Set() : new Set(pathsDeeperThan(value, 1)))}
          >
            {anyCollapsed ? 'Expand all' : 'Collapse all'}
          </button>
        )}
      </div>
      <pre class="json" aria-label={label}>
        {render(value, '$', 0, label)}
      </pre>
    </div>
  );
};
