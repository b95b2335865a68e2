import { HttpErrorResponse } from '@angular/common/http';
import { Component, input, signal } from '@angular/core';
import { isGatehouseError } from '@gatehouse/client';

export interface ShownError {
  /** A message not tied to a field (`detail`), or null. */
  detail: string | null;
  /** The server's validation messages, by field (DRF shape). */
  fields: Record<string, string[]>;
}

/** Turns a client error (GatehouseError) or an HttpClient error into what a form shows. */
export function toShownError(e: unknown): ShownError {
  if (isGatehouseError(e)) {
    const hasFields = Object.keys(e.fields).length > 0;
    return { detail: hasFields ? null : e.detail, fields: e.fields };
  }
  if (e instanceof HttpErrorResponse) {
    const body = e.error;
    if (body && typeof body === 'object' && !('detail' in body)) {
      return { detail: null, fields: body as Record<string, string[]> };
    }
    return { detail: body?.detail ?? (e.status === 0 ? 'Network error.' : e.message), fields: {} };
  }
  return { detail: e instanceof Error ? e.message : String(e), fields: {} };
}

/** A form's state: what it shows of a refusal, and whether its call is running. */
export class FormState {
  readonly error = signal<ShownError>({ detail: null, fields: {} });
  readonly busy = signal(false);

  /** Runs the form's call (busy meanwhile): true when it succeeded (the
   *  error is cleared), false when it failed (its messages are shown). */
  async run(call: () => Promise<unknown>): Promise<boolean> {
    this.busy.set(true);
    try {
      await call();
      this.error.set({ detail: null, fields: {} });
      return true;
    } catch (e) {
      this.error.set(toShownError(e));
      return false;
    } finally {
      this.busy.set(false);
    }
  }
}

/** Every server message for one field, under its input: data-testid="error-<name>". */
@Component({
  selector: 'app-field-errors',
  template: `
    @if (errors()[name()]; as messages) {
      <div class="error" [attr.data-testid]="'error-' + name()">
        @for (m of messages; track $index) {
          <div>{{ m }}</div>
        }
      </div>
    }
  `,
})
export class FieldErrors {
  readonly errors = input.required<Record<string, string[]>>();
  readonly name = input.required<string>();
}
