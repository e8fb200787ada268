import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'cs2:is-public';

/** Opts a controller or route out of bearer authentication (health probes, metrics). */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(IS_PUBLIC, true);
