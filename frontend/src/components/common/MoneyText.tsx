import { Box } from '@mui/material';
import { formatMoney, isNegative } from '../../utils/money';

export function MoneyText({ amount, currency, signed = false, colored = false }: { amount: string; currency: string; signed?: boolean; colored?: boolean }) {
  let neg = false;
  try {
    neg = isNegative(amount);
  } catch {
    neg = false;
  }
  return (
    <Box component="span" sx={{ fontVariantNumeric: 'tabular-nums', color: colored ? (neg ? 'error.main' : 'success.dark') : undefined }}>
      {formatMoney(amount, currency, { signed })}
    </Box>
  );
}
