import type { EntityManager } from '@mikro-orm/knex';
import DataLoader from 'dataloader';
import type { Operation } from '../../common/operation';
import type { SeatService } from './seat.service';

/** The seats in use of a request's licenses, one query for all of them. */
export function seatLoaders(em: EntityManager, seats: SeatService) {
  return {
    seatsInUse: new DataLoader<string, number>(async (ids) => {
      const counts = await seats.seatsInUse(em, ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export type SeatLoaders = ReturnType<typeof seatLoaders>;
export type SeatContext = Operation & { loaders: SeatLoaders };
