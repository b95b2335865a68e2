// Runs a store call for a form and keeps its errors: `fields` is the server's
// DRF body ({ field: [messages] }) for a 400, `detail` the message of any other
// failure (wrong credentials, throttled, network).
import { ref } from 'vue';
import { isGatehouseError } from '@gatehouse/client';

export function useSubmit() {
  const busy = ref(false);
  const fields = ref({});
  const detail = ref('');
  async function run(fn) {
    busy.value = true;
    fields.value = {};
    detail.value = '';
    try {
      return await fn();
    } catch (e) {
      if (isGatehouseError(e) && Object.keys(e.fields).length) fields.value = e.fields;
      else detail.value = isGatehouseError(e) ? e.detail : String(e);
      return undefined;
    } finally {
      busy.value = false;
    }
  }
  return { busy, fields, detail, run };
}
