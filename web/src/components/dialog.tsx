import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal question with one dangerous answer. The native <dialog> keeps focus
 * inside and closes on Escape; the safe answer has the focus first.
 */
export function ConfirmDialog(props: {
  title: string;
  confirmLabel: string;
  busy: boolean;
  error?: string | undefined;
  onConfirm(): void;
  onClose(): void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    d.showModal();
    d.querySelector<HTMLButtonElement>('button.cancel')?.focus();
    return () => d.close();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={props.onClose}>
      <h2 id="confirm-title">{props.title}</h2>
      <div class="confirm-body">{props.children}</div>
      {props.error ? (
        <p class="note error" role="alert">
          {props.error}
        </p>
      ) : null}
      <div class="confirm-actions">
        <button type="button" class="cancel" onClick={props.onClose} disabled={props.busy}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? 'Deleting…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
