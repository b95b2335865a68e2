import { HttpErrorResponse } from '@angular/common/http';
import { Component, input } from '@angular/core';
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
