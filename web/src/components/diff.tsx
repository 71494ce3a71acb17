/** One file's patch drawn by diff2html, unified or side by side. */
import { html } from 'diff2html';
import { ColorSchemeType } from 'diff2html/lib-esm/types.js';
import { useMemo } from 'preact/hooks';

export type DiffLayout = 'unified' | 'split';

export function Diff({ patch, layout }: { patch: string; layout: DiffLayout }) {
  // diff2html escapes every line it draws; the markup is its own.
  const markup = useMemo(
    () =>
      html(patch, {
        outputFormat: layout === 'split' ? 'side-by-side' : 'line-by-line',
        drawFileList: false,
        matching: 'lines',
        colorScheme: ColorSchemeType.AUTO,
      }),
    [patch, layout],
  );
  return <div class="diff" data-testid="diff" dangerouslySetInnerHTML={{ __html: markup }} />;
}

export function LayoutToggle({ layout, onChange }: { layout: DiffLayout; onChange: (layout: DiffLayout) => void }) {
  return (
    <fieldset role="group" aria-label="Diff layout" class="layout-toggle">
      <button type="button" class={layout === 'unified' ? '' : 'outline'} aria-pressed={layout === 'unified'} onClick={() => onChange('unified')}>
        Unified
      </button>
      <button type="button" class={layout === 'split' ? '' : 'outline'} aria-pressed={layout === 'split'} onClick={() => onChange('split')}>
        Side by side
      </button>
    </fieldset>
  );
}
